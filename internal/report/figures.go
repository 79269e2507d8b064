package report

import (
	"slices"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// Data is what every report is made from: the cell, the period, the roster and
// the period's meetings. The caller loads it; nothing here does I/O.
type Data struct {
	Cell   cell.Cell // Name and TimeZone are used
	Period Period
	// Roster is the cell's member records in roster order; OffRoster records
	// are left out. Members who have left the roster since a meeting are still
	// reported from the meeting's summary, after the roster.
	Roster []cell.Member
	// Meetings are the period's meetings in any order. Closed meetings make
	// the figures and exports; open ones only show in MemberHistory as to
	// come; cancelled ones and those outside the period are ignored.
	Meetings []Meeting
}

// Meeting is one meeting with what was recorded about it.
type Meeting struct {
	Meeting cell.Meeting
	// Summary is cell.Summarize's account of the meeting; used when the
	// meeting is closed.
	Summary cell.Summary
	// Answers are the members' answers to the notice, for the answer column
	// of the exports and for MemberHistory. May be nil: then only excused
	// absences show an answer. When a member has several, the latest wins.
	Answers []cell.Answer
}

// MeetingFigures is one closed meeting's attendance.
type MeetingFigures struct {
	ID                 int64
	Start              time.Time // in the cell's time zone
	Kind               cell.MeetingKind
	Title              string
	Place              string
	Expected           int // members expected (regular or attached that day)
	Present            int // expected members who came: the rate's numerator
	PresentNotExpected int // exempt or away members who came, outside the rate
	Excused            int
	ByReason           map[cell.ReasonCategory]int
	Absent             int // expected, did not come, not excused
	Guests             int
	Target             int // percent
	Percent            int // floor(100 × Present / Expected), 0 when nobody was expected
	MeetsTarget        bool
}

// MemberFigures is one member's attendance over the period's closed meetings.
type MemberFigures struct {
	Member             cell.Member
	Expected           int // meetings the member was expected at
	Present            int // of them, meetings the member came to
	PresentNotExpected int // meetings the member came to while exempt or away
	Excused            int
	ByReason           map[cell.ReasonCategory]int
	Absent             int // absences without reason
	// AbsentMonths is the number of calendar months with an absence without
	// reason: the Statute counts months, so two in one month count once.
	AbsentMonths int
}

// Figures is the attendance of a period, by meeting and by member.
type Figures struct {
	Cell     string         // the cell's name
	Location *time.Location // the cell's time zone; meeting starts are in it
	Period   Period
	Meetings []MeetingFigures // closed meetings, by start
	Members  []MemberFigures  // the roster, in order, then former members
	Topical  []MeetingFigures // the topical meetings held, by start
	Expected int              // sum over meetings of Expected
	Present  int              // sum over meetings of Present
	Percent  int              // floor(100 × Present / Expected) over the period
	Target   int              // the target of the latest meeting, percent
}

// Row is what one closed meeting meant for one member: a line of the CSV and
// of the XLSX detail sheet.
type Row struct {
	Meeting       cell.Meeting // Start in the cell's time zone
	Member        cell.Member
	Participation cell.Participation // on the meeting's day, as the roster says now
	Answer        cell.AnswerKind    // "" for no answer
	Reason        cell.ReasonCategory
	ReasonText    string
	Outcome       cell.Outcome
	Expected      bool // the member was expected at the meeting, as its summary says
}

// closed returns the period's closed meetings by start, with starts in loc.
func (d Data) closed() []Meeting {
	loc := d.Cell.Location()
	var out []Meeting
	for _, m := range d.Meetings {
		if m.Meeting.State != cell.StateClosed || !d.Period.Contains(m.Meeting.Start) {
			continue
		}
		m.Meeting.Start = m.Meeting.Start.In(loc)
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Meeting) int { return a.Meeting.Start.Compare(b.Meeting.Start) })
	return out
}

// members is the roster without OffRoster records, then anyone a closed
// meeting's summary names who is no longer on it.
func (d Data) members(closed []Meeting) []cell.Member {
	var out []cell.Member
	seen := map[int64]bool{}
	add := func(m cell.Member) {
		if m.OffRoster || m.Unlisted || seen[m.ID] {
			return
		}
		seen[m.ID] = true
		out = append(out, m)
	}
	for _, m := range d.Roster {
		add(m)
	}
	for _, m := range closed {
		s := m.Summary
		for _, list := range [][]cell.Member{s.PresentOfficial, s.PresentProbationary, s.PresentAttached, s.PresentNotExpected, s.AbsentNoReason} {
			for _, mb := range list {
				add(mb)
			}
		}
		for _, e := range s.Excused {
			add(e.Member)
		}
	}
	return out
}

// latestAnswers keeps each member's latest answer, as cell.Summarize does.
func latestAnswers(answers []cell.Answer) map[int64]cell.Answer {
	out := make(map[int64]cell.Answer, len(answers))
	for _, a := range answers {
		if prev, ok := out[a.MemberID]; !ok || !a.At.Before(prev.At) {
			out[a.MemberID] = a
		}
	}
	return out
}

// Rows is one row per closed meeting of the period and member of the cell at
// that meeting, meetings by start, members in roster order. A member the
// meeting's summary has no outcome for (not yet on the roster then) has no row.
func Rows(d Data) []Row {
	closed := d.closed()
	members := d.members(closed)
	var rows []Row
	for _, m := range closed {
		answers := latestAnswers(m.Answers)
		excuses := map[int64]cell.Excuse{}
		for _, e := range m.Summary.Excused {
			excuses[e.Member.ID] = e
		}
		notExpected := map[int64]bool{}
		for _, mb := range m.Summary.PresentNotExpected {
			notExpected[mb.ID] = true
		}
		for _, mb := range members {
			out, ok := m.Summary.Outcomes[mb.ID]
			if !ok {
				continue
			}
			r := Row{
				Meeting:       m.Meeting,
				Member:        mb,
				Participation: mb.ParticipationOn(m.Meeting.Start),
				Outcome:       out,
				Expected:      out == cell.OutcomeExcused || out == cell.OutcomeAbsent || out == cell.OutcomePresent && !notExpected[mb.ID],
			}
			if a, ok := answers[mb.ID]; ok {
				r.Answer = a.Kind
				if a.Kind == cell.Excused {
					r.Reason, r.ReasonText = a.Reason, a.ReasonText
					if r.Reason == "" {
						r.Reason = cell.ReasonOther
					}
				}
			}
			if e, ok := excuses[mb.ID]; ok {
				r.Answer, r.Reason, r.ReasonText = cell.Excused, e.Reason, e.Text
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// percent is floor(100 × n / of), 0 when of is 0. Whether a meeting meets
// its target is the summary's word (cell.Summary.MeetsTarget), not this
// rounded figure: 85.0% shows as 85 and is not above an 85% target.
func percent(n, of int) int {
	if of == 0 {
		return 0
	}
	return n * 100 / of
}

// Compute works out the period's figures.
func Compute(d Data) Figures {
	closed := d.closed()
	f := Figures{
		Cell:     d.Cell.Name,
		Location: d.Cell.Location(),
		Period:   d.Period,
		Target:   cell.DefaultTargetPercent,
	}
	for _, m := range closed {
		s := m.Summary
		mf := MeetingFigures{
			ID:                 m.Meeting.ID,
			Start:              m.Meeting.Start,
			Kind:               m.Meeting.Kind,
			Title:              m.Meeting.Title,
			Place:              m.Meeting.Place,
			Expected:           s.Expected,
			Present:            s.PresentExpected(),
			PresentNotExpected: len(s.PresentNotExpected),
			Excused:            len(s.Excused),
			ByReason:           map[cell.ReasonCategory]int{},
			Absent:             len(s.AbsentNoReason),
			Guests:             len(s.Guests),
			Target:             s.TargetPercent,
			Percent:            percent(s.PresentExpected(), s.Expected),
			MeetsTarget:        s.MeetsTarget(),
		}
		if mf.Target <= 0 {
			mf.Target = cell.DefaultTargetPercent
		}
		for _, e := range s.Excused {
			mf.ByReason[e.Reason]++
		}
		f.Meetings = append(f.Meetings, mf)
		if mf.Kind == cell.KindTopical {
			f.Topical = append(f.Topical, mf)
		}
		f.Expected += mf.Expected
		f.Present += mf.Present
		f.Target = mf.Target
	}
	f.Percent = percent(f.Present, f.Expected)

	byID := map[int64]int{}
	for _, mb := range d.members(closed) {
		byID[mb.ID] = len(f.Members)
		f.Members = append(f.Members, MemberFigures{Member: mb, ByReason: map[cell.ReasonCategory]int{}})
	}
	absentMonths := map[int64]map[time.Month]bool{}
	for _, r := range Rows(d) {
		mf := &f.Members[byID[r.Member.ID]]
		switch r.Outcome {
		case cell.OutcomePresent:
			if r.Expected {
				mf.Expected++
				mf.Present++
			} else {
				mf.PresentNotExpected++
			}
		case cell.OutcomeExcused:
			mf.Expected++
			mf.Excused++
			mf.ByReason[r.Reason]++
		case cell.OutcomeAbsent:
			mf.Expected++
			mf.Absent++
			// A period lies within one calendar year, so the month alone tells.
			if absentMonths[r.Member.ID] == nil {
				absentMonths[r.Member.ID] = map[time.Month]bool{}
			}
			absentMonths[r.Member.ID][r.Meeting.Start.Month()] = true
			mf.AbsentMonths = len(absentMonths[r.Member.ID])
		}
	}
	return f
}
