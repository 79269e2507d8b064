package report

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

// Telegram's limits, in UTF-16 code units as Telegram counts them.
const (
	MaxMessage = 4096 // a text message
	MaxCaption = 1024 // a photo's or document's caption
)

// MaxDocument is the largest file a bot may send, in bytes (50 MB).
const MaxDocument = 50 << 20

// telegramLen is the length Telegram gives s: UTF-16 code units. It is taken
// on the HTML source, which is never shorter than the text Telegram counts.
func telegramLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func kindShort(lang string, k cell.MeetingKind) string {
	if k == cell.KindTopical {
		return texts.T(lang, texts.ReportKindTopical)
	}
	return texts.T(lang, texts.ReportKindRegular)
}

func kindLong(lang string, k cell.MeetingKind) string {
	if k == cell.KindTopical {
		return texts.T(lang, texts.MeetingKindTopical)
	}
	return texts.T(lang, texts.MeetingKindRegular)
}

func reasonLabel(lang string, r cell.ReasonCategory) string {
	switch r {
	case cell.ReasonWork:
		return texts.T(lang, texts.ReportReasonWork)
	case cell.ReasonIllness:
		return texts.T(lang, texts.ReportReasonIllness)
	case cell.ReasonFamily:
		return texts.T(lang, texts.ReportReasonFamily)
	case "":
		return ""
	}
	return texts.T(lang, texts.ReportReasonOther)
}

func outcomeLabel(lang string, o cell.Outcome) string {
	switch o {
	case cell.OutcomePresent:
		return texts.T(lang, texts.ReportOutcomePresent)
	case cell.OutcomeExcused:
		return texts.T(lang, texts.ReportOutcomeExcused)
	case cell.OutcomeAbsent:
		return texts.T(lang, texts.ReportOutcomeAbsent)
	}
	return texts.T(lang, texts.ReportOutcomeNotExpected)
}

func answerLabel(lang string, k cell.AnswerKind) string {
	switch k {
	case cell.Coming:
		return texts.T(lang, texts.ReportAnswerComing)
	case cell.Excused:
		return texts.T(lang, texts.ReportAnswerExcused)
	case cell.Unsure:
		return texts.T(lang, texts.ReportAnswerUnsure)
	}
	return texts.T(lang, texts.ReportAnswerNone)
}

func standingLabel(lang string, s cell.Standing) string {
	if s == cell.Probationary {
		return texts.T(lang, texts.StandingProbationary)
	}
	return texts.T(lang, texts.StandingOfficial)
}

func participationLabel(lang string, p cell.Participation) string {
	switch p {
	case cell.Exempt:
		return texts.T(lang, texts.PartExempt)
	case cell.Away:
		return texts.T(lang, texts.PartAway)
	case cell.Attached:
		return texts.T(lang, texts.PartAttached)
	}
	return texts.T(lang, texts.PartRegular)
}

// reasonsList is "ốm đau 1, công tác 2" in the categories' order.
func reasonsList(lang string, by map[cell.ReasonCategory]int) string {
	var parts []string
	for _, r := range cell.ReasonCategories {
		if n := by[r]; n > 0 {
			parts = append(parts, reasonLabel(lang, r)+" "+itoa(n))
		}
	}
	return strings.Join(parts, ", ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// meetingDates labels meetings the way dates are written to people,
// dd/mm/yyyy, with the time HH:MM (after sep) on a day that has more than one
// of them: a regular and a topical meeting often share a day. starts are in
// the cell's time zone.
func meetingDates(starts []time.Time, sep string) []string {
	perDay := map[string]int{}
	for _, t := range starts {
		perDay[t.Format(time.DateOnly)]++
	}
	out := make([]string, len(starts))
	for i, t := range starts {
		out[i] = t.Format("02/01/2006")
		if perDay[t.Format(time.DateOnly)] > 1 {
			out[i] += sep + t.Format("15:04")
		}
	}
	return out
}

// shortDate is a meeting's day as the report lists it, 03/04; Compute gives
// starts in the cell's time zone.
func shortDate(m MeetingFigures) string { return m.Start.Format("02/01") }

// Text is the /report message: a heading, attendance by meeting with the rate
// against the target, the whole period's rate, the topical meetings held, and
// attendance by member. It is HTML for Telegram with user text escaped, in
// short lines for a phone, split at line ends into parts of at most
// MaxMessage; parts after the first repeat a short heading.
func Text(lang string, f Figures) []string {
	name := texts.Escape(f.Cell)
	label := f.Period.Label(lang)
	head := texts.T(lang, texts.ReportTitle, name, label)
	if len(f.Meetings) == 0 {
		return []string{head + "\n\n" + texts.T(lang, texts.ReportNoMeetings, label)}
	}
	lines := []string{head, "", texts.T(lang, texts.ReportByMeeting)}
	for _, m := range f.Meetings {
		mark := "✅"
		if !m.MeetsTarget {
			mark = "⚠️"
		}
		lines = append(lines, texts.T(lang, texts.ReportMeetingLine, shortDate(m), kindShort(lang, m.Kind), m.Present, m.Expected, m.Percent, mark))
		if m.Excused > 0 || m.Absent > 0 {
			reasons := ""
			if m.Excused > 0 {
				reasons = " (" + reasonsList(lang, m.ByReason) + ")"
			}
			lines = append(lines, texts.T(lang, texts.ReportMeetingAbsence, m.Excused, reasons, m.Absent))
		}
		if m.PresentNotExpected > 0 || m.Guests > 0 {
			lines = append(lines, texts.T(lang, texts.ReportMeetingExtra, m.PresentNotExpected, m.Guests))
		}
	}
	lines = append(lines, texts.T(lang, texts.ReportOverall, f.Present, f.Expected, f.Percent, f.Target), "")
	if len(f.Topical) == 0 {
		lines = append(lines, texts.T(lang, texts.ReportTopicalNone))
	} else {
		var dates []string
		for _, m := range f.Topical {
			d := shortDate(m)
			if m.Title != "" {
				d += " " + texts.Escape(m.Title)
			}
			dates = append(dates, d)
		}
		lines = append(lines, texts.T(lang, texts.ReportTopical, len(f.Topical), strings.Join(dates, "; ")))
	}
	lines = append(lines, "", texts.T(lang, texts.ReportByMember))
	for _, mf := range f.Members {
		lines = append(lines, memberLine(lang, mf))
	}
	return split(lines, texts.T(lang, texts.ReportTitleContinued, name, label), MaxMessage)
}

func memberLine(lang string, mf MemberFigures) string {
	name := texts.Escape(mf.Member.Name)
	var b strings.Builder
	if mf.Expected == 0 {
		b.WriteString(texts.T(lang, texts.ReportMemberNotExpected, name))
	} else {
		b.WriteString(texts.T(lang, texts.ReportMemberLine, name, mf.Present, mf.Expected))
	}
	if mf.Excused > 0 {
		b.WriteString(texts.T(lang, texts.ReportMemberExcused, mf.Excused, reasonsList(lang, mf.ByReason)))
	}
	if mf.Absent > 0 {
		b.WriteString(texts.T(lang, texts.ReportMemberAbsent, mf.Absent))
		if mf.AbsentMonths >= cell.AbsenceMonthsAlert {
			b.WriteString(" ⚠️")
		}
	}
	if mf.PresentNotExpected > 0 {
		b.WriteString(texts.T(lang, texts.ReportMemberCame, mf.PresentNotExpected))
	}
	return b.String()
}

// split packs lines into messages of at most limit, breaking only between
// lines; every message after the first starts with cont. A line longer than
// a message on its own is cut (it cannot happen with names of at most
// cell.MaxNameLen).
func split(lines []string, cont string, limit int) []string {
	var parts []string
	var cur strings.Builder
	curLen := 0
	for _, line := range lines {
		ll := telegramLen(line)
		if ll > limit-telegramLen(cont)-1 {
			line = cut(line, limit-telegramLen(cont)-2)
			ll = telegramLen(line)
		}
		if curLen > 0 && curLen+1+ll > limit {
			parts = append(parts, strings.TrimRight(cur.String(), "\n"))
			cur.Reset()
			cur.WriteString(cont)
			curLen = telegramLen(cont)
			if line == "" {
				continue
			}
		}
		if curLen > 0 {
			cur.WriteByte('\n')
			curLen++
		}
		cur.WriteString(line)
		curLen += ll
	}
	if curLen > 0 {
		parts = append(parts, strings.TrimRight(cur.String(), "\n"))
	}
	return parts
}

// cut shortens s to at most n UTF-16 units, ending with "…". It may break
// HTML only in lines this package builds from escaped names, at a rune; an
// entity cut in half is dropped.
func cut(s string, n int) string {
	var b strings.Builder
	l := 0
	for _, r := range s {
		if l+utf16.RuneLen(r)+1 > n {
			break
		}
		b.WriteRune(r)
		l += utf16.RuneLen(r)
	}
	out := b.String()
	if i := strings.LastIndexByte(out, '&'); i >= 0 && !strings.Contains(out[i:], ";") {
		out = out[:i]
	}
	return out + "…"
}

// Caption is the chart photo's caption: the period's rate against the target.
// It stays under MaxCaption.
func Caption(lang string, f Figures) string {
	c := texts.T(lang, texts.ReportCaption, f.Period.Label(lang), texts.Escape(f.Cell), f.Percent, f.Target)
	if telegramLen(c) > MaxCaption {
		c = cut(c, MaxCaption)
	}
	return c
}

// ExportCaption is the caption of the /export documents.
func ExportCaption(lang string, f Figures) string {
	c := texts.T(lang, texts.ExportCaption, f.Period.Label(lang), texts.Escape(f.Cell))
	if telegramLen(c) > MaxCaption {
		c = cut(c, MaxCaption)
	}
	return c
}

// MemberHistory is the /history message: one member's own answers and
// attendance over d.Period (the year, for /history), meeting by meeting,
// closed meetings with what they meant for the member and the answer given,
// meetings to come with the answer so far, then the totals. Only this
// member's record is read. The text is HTML, under MaxMessage (the oldest
// lines are dropped first when a year's meetings would not fit).
func MemberHistory(lang string, d Data, memberID int64) string {
	loc := d.Cell.Location()
	var member cell.Member
	found := false
	for _, m := range d.Roster {
		if m.ID == memberID && !m.OffRoster && !m.Unlisted {
			member, found = m, true
			break
		}
	}
	if !found {
		return texts.T(lang, texts.HistoryNotMember)
	}
	label := d.Period.Label(lang)
	head := texts.T(lang, texts.HistoryTitle, texts.Escape(member.Name), label)

	var ms []Meeting
	for _, m := range d.Meetings {
		if m.Meeting.State == cell.StateCancelled || !d.Period.Contains(m.Meeting.Start) {
			continue
		}
		ms = append(ms, m)
	}
	slices.SortStableFunc(ms, func(a, b Meeting) int { return a.Meeting.Start.Compare(b.Meeting.Start) })

	starts := make([]time.Time, len(ms))
	for i, m := range ms {
		starts[i] = m.Meeting.Start.In(loc)
	}
	dates := meetingDates(starts, " ")
	var lines []string
	var present, expected, excused, absent, came int
	for i, m := range ms {
		date := dates[i]
		kind := kindShort(lang, m.Meeting.Kind)
		var what string
		a, answered := latestAnswers(m.Answers)[memberID]
		switch {
		case m.Meeting.State != cell.StateClosed:
			what = texts.T(lang, texts.HistoryUpcoming)
		default:
			out, ok := m.Summary.Outcomes[memberID]
			if !ok {
				continue // not on the roster then
			}
			what = outcomeLabel(lang, out)
			switch out {
			case cell.OutcomePresent:
				if slices.ContainsFunc(m.Summary.PresentNotExpected, func(x cell.Member) bool { return x.ID == memberID }) {
					came++
				} else {
					expected++
					present++
				}
			case cell.OutcomeExcused:
				expected++
				excused++
				for _, e := range m.Summary.Excused {
					if e.Member.ID == memberID && !answered {
						a, answered = cell.Answer{Kind: cell.Excused, Reason: e.Reason, ReasonText: e.Text}, true
					}
				}
			case cell.OutcomeAbsent:
				expected++
				absent++
			}
		}
		if answered {
			ans := answerLabel(lang, a.Kind)
			if a.Kind == cell.Excused {
				r := a.Reason
				if r == "" {
					r = cell.ReasonOther
				}
				ans += ", " + reasonLabel(lang, r)
				if a.ReasonText != "" {
					ans += ": " + texts.Escape(a.ReasonText)
				}
			}
			what += texts.T(lang, texts.HistoryAnswer, ans)
		}
		lines = append(lines, texts.T(lang, texts.HistoryLine, date, kind, what))
	}
	if len(lines) == 0 {
		return head + "\n\n" + texts.T(lang, texts.HistoryNone, label)
	}
	totals := texts.T(lang, texts.HistoryTotals, present, expected, excused, absent)
	if came > 0 {
		totals = strings.TrimSuffix(totals, ".") + texts.T(lang, texts.ReportMemberCame, came) + "."
	}
	for {
		out := head + "\n\n" + strings.Join(lines, "\n") + "\n\n" + totals
		if telegramLen(out) <= MaxMessage || len(lines) == 1 {
			if telegramLen(out) > MaxMessage {
				out = cut(out, MaxMessage)
			}
			return out
		}
		lines = lines[1:]
	}
}
