package cell

import (
	"fmt"
	"slices"
	"time"
)

// DefaultTargetPercent is the attendance rate a cell aims at unless it sets its own.
const DefaultTargetPercent = 85

// Outcome is what a meeting meant for one member on the roster.
type Outcome string

// Outcomes.
const (
	OutcomePresent     Outcome = "present"      // came, expected or not
	OutcomeExcused     Outcome = "excused"      // expected, did not come, answered excused (any reason)
	OutcomeAbsent      Outcome = "absent"       // expected, did not come, not excused: absent without reason
	OutcomeNotExpected Outcome = "not_expected" // exempt or away that day, and did not come
)

// Excuse is an expected member who did not come and asked to be excused.
type Excuse struct {
	Member Member
	Reason ReasonCategory // ReasonOther when the answer gave none
	Text   string
	// Unstated is set when the member asked to be excused and never chose a
	// reason: counted under ReasonOther, shown as such.
	Unstated bool
}

// Vote is the vote base of a meeting with the figures it comes from. A
// resolution passes when at least Threshold voters agree (more than half of Base).
// Probationary and attached members attend and speak but do not vote.
type Vote struct {
	Official     int // official members of this cell on the roster that day (attached ones are not)
	Away         int // of them, away that day (whether or not they came)
	ExemptAbsent int // of them, exempt and not present
	Excused      int // of them, expected, not present and excused (any reason counts)
	Base         int // Official - Away - ExemptAbsent - Excused
	Threshold    int // Base/2 + 1
}

// Summary is the account of one meeting the minutes need. Members appear in
// roster order. The counts for the group come from the lengths of the lists;
// the names and reasons are for the committee.
//
// Attached members (sinh hoạt tạm thời) belong to their home cell's count: they
// are expected here, so they are in the rate and in the excused and absent
// lists, but they are listed apart when present, and they are neither in this
// cell's total nor in its vote base.
type Summary struct {
	Total               Total    // the cell's own members on the roster that day (đảng số)
	Attached            []Member // attached members on the roster that day, outside Total
	Expected            int      // members expected that day (regular or attached)
	PresentOfficial     []Member // expected, present, official, of this cell
	PresentProbationary []Member // expected, present, probationary, of this cell
	PresentAttached     []Member // attached and present: in the rate, listed apart
	PresentNotExpected  []Member // exempt or away that day who came: listed apart, outside the rate
	Excused             []Excuse // expected, not present, excused (those who gave no reason too)
	AbsentNoReason      []Member // expected, not present, not excused
	ComingNotCame       []Member // answered coming but were not present (expected or not)
	Guests              []Guest
	ByReason            map[ReasonCategory]int // Excused totalled by category
	TargetPercent       int                    // the cell's quality target the rate is held against
	Vote                Vote
	Outcomes            map[int64]Outcome // every member on the roster, by id, for their history
	// PresentBy lists every member present (expected or not) by how their
	// presence was recorded: QR, code, roll call or card.
	PresentBy map[PresenceMark][]Member
}

// PresenceMethods are the ways a presence is recorded, in the order the
// summary lists them.
var PresenceMethods = []PresenceMark{PresentByQR, PresentByCode, PresentByRollCall, PresentByCard}

// Total is a cell's own membership (đảng số) on a meeting's day: every member on
// the roster but the attached ones, by standing.
type Total struct {
	Official     int
	Probationary int
}

// All is the whole total, official and probationary.
func (t Total) All() int { return t.Official + t.Probationary }

// PresentExpected is the number of expected members who came: the numerator of
// the rate.
func (s Summary) PresentExpected() int {
	return len(s.PresentOfficial) + len(s.PresentProbationary) + len(s.PresentAttached)
}

// Rate is PresentExpected/Expected, from 0 to 1; 0 when nobody was expected.
func (s Summary) Rate() float64 {
	if s.Expected == 0 {
		return 0
	}
	return float64(s.PresentExpected()) / float64(s.Expected)
}

// RateAboveTarget reports whether the rate is above the target, compared in
// whole numbers: 17 of 20 is 85.0%, which is not above 85%. A meeting nobody
// was expected at is not above it.
func (s Summary) RateAboveTarget() bool {
	return s.Expected > 0 && s.PresentExpected()*100 > s.TargetPercent*s.Expected
}

// MeetsTarget reports whether the meeting meets the cell's quality target: the
// rate is above the target and no expected member is absent without reason.
func (s Summary) MeetsTarget() bool {
	return s.RateAboveTarget() && len(s.AbsentNoReason) == 0
}

// Stated is the excused members who gave a reason; Unstated those who asked to
// be excused and never gave one: listed apart, still counted as excused.
func (s Summary) Stated() []Excuse {
	var out []Excuse
	for _, e := range s.Excused {
		if !e.Unstated {
			out = append(out, e)
		}
	}
	return out
}

// Unstated is the excused members who never gave a reason, in roster order.
func (s Summary) Unstated() []Member {
	var out []Member
	for _, e := range s.Excused {
		if e.Unstated {
			out = append(out, e.Member)
		}
	}
	return out
}

// Threshold is the number of votes that passes a resolution with that vote
// base: more than half, floor(base/2) + 1. A base of 0 gives 1: nothing can pass.
func Threshold(base int) int { return base/2 + 1 }

// Summarize works out a meeting's summary.
//
// day is the meeting's start in the cell's time zone: members' participation
// (an away member whose until-date has passed is regular again) is taken on
// that calendar day. roster is the cell's member records; those marked
// OffRoster, and those who left the roster by that day, are left out of
// everything. answers and presence may hold at most
// one entry per member; when a member has several, the latest At wins, the
// later in the slice on a tie. Entries for members not on the roster are
// ignored. targetPercent is the cell's quality target, DefaultTargetPercent
// when 0 or less.
//
// A member who came counts as present whatever they answered. An expected
// member who did not come is excused when their answer is Excused, whatever the
// reason or none (then marked Unstated), and absent without reason otherwise
// (coming, unsure, no answer, or marked absent).
func Summarize(day time.Time, roster []Member, answers []Answer, presence []Presence, guests []Guest, targetPercent int) Summary {
	if targetPercent <= 0 {
		targetPercent = DefaultTargetPercent
	}
	answerOf := make(map[int64]Answer, len(answers))
	for _, a := range answers {
		if prev, ok := answerOf[a.MemberID]; !ok || !a.At.Before(prev.At) {
			answerOf[a.MemberID] = a
		}
	}
	markOf := make(map[int64]Presence, len(presence))
	for _, p := range presence {
		if prev, ok := markOf[p.MemberID]; !ok || !p.At.Before(prev.At) {
			markOf[p.MemberID] = p
		}
	}
	s := Summary{
		Guests:        guests,
		ByReason:      map[ReasonCategory]int{},
		TargetPercent: targetPercent,
		Outcomes:      map[int64]Outcome{},
	}
	for _, m := range roster {
		if !m.OnRoster(day) {
			continue
		}
		part := m.ParticipationOn(day)
		expected := part == Regular || part == Attached
		official := m.Standing != Probationary // storage defaults an empty standing to official
		present := markOf[m.ID].Present()
		a, answered := answerOf[m.ID]
		excused := answered && a.Kind == Excused

		if answered && a.Kind == Coming && !present {
			s.ComingNotCame = append(s.ComingNotCame, m)
		}
		var out Outcome
		switch {
		case present && !expected:
			out = OutcomePresent
			s.PresentNotExpected = append(s.PresentNotExpected, m)
		case present && part == Attached:
			out = OutcomePresent
			s.PresentAttached = append(s.PresentAttached, m)
		case present && official:
			out = OutcomePresent
			s.PresentOfficial = append(s.PresentOfficial, m)
		case present:
			out = OutcomePresent
			s.PresentProbationary = append(s.PresentProbationary, m)
		case !expected:
			out = OutcomeNotExpected
		case excused:
			out = OutcomeExcused
			reason := a.Reason
			if reason == "" {
				reason = ReasonOther
			}
			s.Excused = append(s.Excused, Excuse{Member: m, Reason: reason, Text: a.ReasonText, Unstated: a.Reason == "" && a.ReasonText == ""})
			s.ByReason[reason]++
		default:
			out = OutcomeAbsent
			s.AbsentNoReason = append(s.AbsentNoReason, m)
		}
		s.Outcomes[m.ID] = out
		if present {
			if s.PresentBy == nil {
				s.PresentBy = map[PresenceMark][]Member{}
			}
			mark := markOf[m.ID].Mark
			s.PresentBy[mark] = append(s.PresentBy[mark], m)
		}
		if expected {
			s.Expected++
		}

		switch {
		case part == Attached:
			s.Attached = append(s.Attached, m)
			continue // their home cell counts them, and they do not vote here
		case official:
			s.Total.Official++
		default:
			s.Total.Probationary++
			continue
		}
		s.Vote.Official++
		switch {
		case part == Away:
			s.Vote.Away++
		case part == Exempt && !present:
			s.Vote.ExemptAbsent++
		case out == OutcomeExcused:
			s.Vote.Excused++
		}
	}
	s.Vote.Base = s.Vote.Official - s.Vote.Away - s.Vote.ExemptAbsent - s.Vote.Excused
	s.Vote.Threshold = Threshold(s.Vote.Base)
	return s
}

// Attendance is one entry of a member's history: what a closed meeting meant
// for them. Cancelled meetings have no entry.
type Attendance struct {
	MeetingID int64     `json:"meeting_id"`
	Start     time.Time `json:"start"`
	Outcome   Outcome   `json:"outcome"`
}

// AlertKind names an absence alert.
type AlertKind string

// Absence alerts, for the committee only.
const (
	// AlertAbsentInYear: absences without reason in AbsenceMonthsAlert calendar
	// months of one calendar year, the threshold for removal from the party
	// rolls. The Statute counts months: two absences in one month count once.
	AlertAbsentInYear AlertKind = "absent_in_year"
	// AlertExcusedInARow: ExcusedInARowAlert excused absences in a row.
	AlertExcusedInARow AlertKind = "excused_in_a_row"
)

// Counts at which absence alerts fire.
const (
	AbsenceMonthsAlert = 3
	ExcusedInARowAlert = 3
)

// Alert is an absence alert about one member, with the meetings behind it,
// oldest first.
type Alert struct {
	Kind     AlertKind
	Meetings []Attendance
	// Months is, for AlertAbsentInYear, the number of calendar months of the
	// year with an absence without reason; Meetings may hold more entries
	// when a month had two meetings.
	Months int
}

// AbsenceAlerts returns the alerts that fire at one meeting for one member:
// those that hold after it and did not before it, so that each is sent once
// (the caller still keeps a sent marker, keyed by kind, member and meeting,
// for retries).
//
// history is the member's attendance ordered by start, the meeting with id
// meetingID among it; entries after that meeting are ignored, so a late call
// gives the same answer. AlertAbsentInYear fires at the meeting that brings the
// number of calendar months (in loc, the cell's time zone) of its year in which
// the member was absent without reason to exactly AbsenceMonthsAlert: a second
// absence in a month already counted adds nothing. AlertExcusedInARow fires at
// the meeting that makes a run of exactly ExcusedInARowAlert excused absences:
// meetings the member was not expected at neither count nor break a run,
// anything else breaks it, and the run may reach back into the previous year.
// Neither fires again for a longer count or run; a new run can fire again.
func AbsenceAlerts(history []Attendance, meetingID int64, loc *time.Location) []Alert {
	at := -1
	for i, a := range history {
		if a.MeetingID == meetingID {
			at = i
			break
		}
	}
	if at < 0 {
		return nil
	}
	history = history[:at+1]
	this := history[at]
	var alerts []Alert
	switch this.Outcome {
	case OutcomeAbsent:
		year, month, _ := this.Start.In(loc).Date()
		var absences []Attendance
		months := map[time.Month]bool{}
		newMonth := true // no earlier absence in this meeting's month
		for i, a := range history {
			y, mo, _ := a.Start.In(loc).Date()
			if a.Outcome != OutcomeAbsent || y != year {
				continue
			}
			absences = append(absences, a)
			months[mo] = true
			if i < at && mo == month {
				newMonth = false
			}
		}
		if newMonth && len(months) == AbsenceMonthsAlert {
			alerts = append(alerts, Alert{Kind: AlertAbsentInYear, Meetings: absences, Months: len(months)})
		}
	case OutcomeExcused:
		var run []Attendance
		for i := at; i >= 0; i-- {
			a := history[i]
			if a.Outcome == OutcomeNotExpected {
				continue
			}
			if a.Outcome != OutcomeExcused {
				break
			}
			run = append(run, a)
		}
		if len(run) == ExcusedInARowAlert {
			slices.Reverse(run)
			alerts = append(alerts, Alert{Kind: AlertExcusedInARow, Meetings: run})
		}
	}
	return alerts
}

// Quarter is a calendar quarter: topical meetings are due at least once in each.
type Quarter struct {
	Year int
	Q    int // 1 to 4
}

// QuarterOf is the quarter t falls in, on the calendar of loc (the cell's time
// zone): 01/04 00:30 in Hà Nội is in the second quarter, though still 31/03 in UTC.
func QuarterOf(t time.Time, loc *time.Location) Quarter {
	t = t.In(loc)
	return Quarter{Year: t.Year(), Q: (int(t.Month())-1)/3 + 1}
}

// Start is the first instant of the quarter in loc.
func (q Quarter) Start(loc *time.Location) time.Time {
	return time.Date(q.Year, time.Month(3*(q.Q-1)+1), 1, 0, 0, 0, 0, loc)
}

// End is the first instant after the quarter in loc: the start of the next one.
// A moment is in the quarter when Start <= t < End.
func (q Quarter) End(loc *time.Location) time.Time { return q.Start(loc).AddDate(0, 3, 0) }

// String is the quarter as minutes write it, "Q2/2026".
func (q Quarter) String() string { return fmt.Sprintf("Q%d/%d", q.Q, q.Year) }

// TopicalWarnDays is how long before a quarter's end the committee is warned
// that it has no topical meeting.
const TopicalWarnDays = 14

// TopicalWarnFrom is when the warning for the quarter becomes due: two weeks
// before its end, at midnight in loc (17/06 00:00 for the second quarter).
func (q Quarter) TopicalWarnFrom(loc *time.Location) time.Time {
	return q.End(loc).AddDate(0, 0, -TopicalWarnDays)
}

// TopicalMissing reports whether the committee is to be warned now: the quarter
// of now (in loc) is within two weeks of its end and none of meetings is a
// topical meeting of that quarter that is not cancelled. A topical meeting
// scheduled for later in the quarter counts. meetings may hold meetings of
// other quarters; they are ignored.
func TopicalMissing(now time.Time, meetings []Meeting, loc *time.Location) bool {
	q := QuarterOf(now, loc)
	if now.Before(q.TopicalWarnFrom(loc)) {
		return false
	}
	start, end := q.Start(loc), q.End(loc)
	for _, m := range meetings {
		if m.Kind == KindTopical && m.State != StateCancelled && !m.Start.Before(start) && m.Start.Before(end) {
			return false
		}
	}
	return true
}
