package scheduler

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/cellbot/cellbot/internal/cell"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRecurrenceNext(t *testing.T) {
	hcm := mustLoc(t, "Asia/Ho_Chi_Minh")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, hcm) }
	tests := []struct {
		name        string
		line        string
		workday     bool
		holidays    []string
		after       time.Time
		wantNominal time.Time
		wantStart   time.Time
	}{
		// 03/04/2025 is a Thursday (a real cell's April meeting).
		{"3rd at 14:00", "0 14 3 * *", false, nil, at(2025, 4, 1, 0, 0), at(2025, 4, 3, 14, 0), at(2025, 4, 3, 14, 0)},
		{"strictly after", "0 14 3 * *", false, nil, at(2025, 4, 3, 14, 0), at(2025, 5, 3, 14, 0), at(2025, 5, 3, 14, 0)},
		{"evening 19:30", "30 19 1 * *", false, nil, at(2025, 4, 1, 20, 0), at(2025, 5, 1, 19, 30), at(2025, 5, 1, 19, 30)},
		// 03/05/2025 is a Saturday: workday moves it to Monday 05/05.
		{"saturday moves to monday", "0 14 3 * *", true, nil, at(2025, 4, 3, 15, 0), at(2025, 5, 3, 14, 0), at(2025, 5, 5, 14, 0)},
		{"without workday it stays", "0 14 3 * *", false, nil, at(2025, 4, 3, 15, 0), at(2025, 5, 3, 14, 0), at(2025, 5, 3, 14, 0)},
		// Asked on Sunday 04/05: the nominal Saturday has passed, its moved start has not.
		{"moved start after the question", "0 14 3 * *", true, nil, at(2025, 5, 4, 10, 0), at(2025, 5, 3, 14, 0), at(2025, 5, 5, 14, 0)},
		// 03/08/2025 is a Sunday.
		{"sunday moves to monday", "0 14 3 * *", true, nil, at(2025, 7, 20, 0, 0), at(2025, 8, 3, 14, 0), at(2025, 8, 4, 14, 0)},
		// 03/09/2025 is a Wednesday, made a holiday: Thursday 04/09.
		{"holiday moves a weekday", "0 14 3 * *", true, []string{"2025-09-03"}, at(2025, 8, 20, 0, 0), at(2025, 9, 3, 14, 0), at(2025, 9, 4, 14, 0)},
		// Saturday 03/05, and Monday 05/05 a holiday: Tuesday 06/05.
		{"weekend then holiday", "0 14 3 * *", true, []string{"2025-05-05"}, at(2025, 4, 10, 0, 0), at(2025, 5, 3, 14, 0), at(2025, 5, 6, 14, 0)},
		// The 31st skips 30-day April; 31/05/2025 is a Saturday.
		{"31st skips a 30-day month", "0 14 31 * *", false, nil, at(2025, 4, 1, 0, 0), at(2025, 5, 31, 14, 0), at(2025, 5, 31, 14, 0)},
		{"31st on a saturday moves into June", "0 14 31 * *", true, nil, at(2025, 4, 1, 0, 0), at(2025, 5, 31, 14, 0), at(2025, 6, 2, 14, 0)},
		{"last day of february in a leap year", "0 9 29 2 *", false, nil, at(2025, 3, 1, 0, 0), at(2028, 2, 29, 9, 0), at(2028, 2, 29, 9, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRecurrence(tt.line, tt.workday, tt.holidays, hcm)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := r.Next(tt.after)
			if !ok {
				t.Fatal("no occurrence")
			}
			if !got.Nominal.Equal(tt.wantNominal) || !got.Start.Equal(tt.wantStart) {
				t.Errorf("Next(%v) = %v / %v, want %v / %v", tt.after, got.Nominal, got.Start, tt.wantNominal, tt.wantStart)
			}
		})
	}
}

func TestRecurrenceTimeZone(t *testing.T) {
	hcm := mustLoc(t, "Asia/Ho_Chi_Minh") // UTC+7, no daylight saving
	r, err := NewRecurrence("0 14 3 * *", false, nil, hcm)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.Next(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2025, 4, 3, 7, 0, 0, 0, time.UTC); !got.Start.Equal(want) {
		t.Errorf("14:00 in Hồ Chí Minh = %v UTC, want %v", got.Start.UTC(), want)
	}
}

func TestParseCron(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
	}{
		{"0 14 3 * *", true},
		{"30 19 1 * *", true},
		{"0 14 32 * *", false},
		{"hello", false},
		{"", false},
		{"0 14 3 *", false},
		{"0 0 14 3 * *", false}, // 6 fields: seconds are not taken
		{"@monthly", false},
		{"CRON_TZ=UTC 0 14 3 * *", false},
		{"0 14 30 2 *", false}, // 30 February never comes
		{"0 25 3 * *", false},
	}
	for _, tt := range tests {
		_, err := ParseCron(tt.line)
		if (err == nil) != tt.ok {
			t.Errorf("ParseCron(%q) err = %v, want ok %v", tt.line, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadCron) {
			t.Errorf("ParseCron(%q) err = %v, not ErrBadCron", tt.line, err)
		}
	}
}

// TestParseCronAtMostWeekly: a regular meeting comes at most once a week; a
// line that meets more often is refused with ErrTooOften, however rarely its
// close pair comes.
func TestParseCronAtMostWeekly(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
	}{
		{"every minute", "* * * * *", false},
		{"every hour", "0 * * * *", false},
		{"twice on one day", "0 8,14 3 * *", false},
		{"daily", "0 14 * * *", false},
		{"working days", "0 14 * * 1-5", false},
		{"two weekdays", "0 19 * * 1,4", false},
		{"the 1st and the 3rd", "0 14 1,3 * *", false},
		{"six days apart", "0 14 1,7 * *", false},
		// 30 January and 1 February are two days apart.
		{"the 1st and the 30th", "0 14 1,30 * *", false},
		// 31 January and 1 February.
		{"the 1st and the 31st", "0 14 1,31 * *", false},
		// 24 February and 1 March are 5 days apart.
		{"the 1st and the 24th", "0 14 1,24 * *", false},
		// Only in a leap year: 29 February and 1 March.
		{"leap day and the 1st of March", "0 14 1,29 2,3 *", false},
		// robfig ORs a restricted day of the month with a restricted weekday, as
		// Vixie cron does: this is every day from the 1st to the 7th and every
		// Thursday, not "the first Thursday".
		{"days 1-7 or thursdays", "0 14 1-7 * 4", false},
		{"the 3rd or mondays", "0 14 3 * 1", false},
		// Fridays of January, and the 13th of January.
		{"13th or friday of january", "0 14 13 1 5", false},
		{"every other minute of one day a year", "*/2 14 3 4 *", false},

		{"monthly, the 3rd", "0 14 3 * *", true},
		{"monthly evening", "30 19 1 * *", true},
		{"weekly", "0 19 * * 1", true},
		{"weekly on sunday", "0 8 * * 0", true},
		{"twice a month", "0 14 1,15 * *", true},
		{"exactly seven days apart", "0 14 1,8 * *", true},
		// 22 February and 1 March are 7 days apart, 8 in a leap year.
		{"the 1st and the 22nd", "0 14 1,22 * *", true},
		{"quarterly", "0 14 5 1,4,7,10 *", true},
		{"mondays of two months", "0 19 * 1,3 1", true},
		{"once a year", "0 9 3 2 *", true},
		{"leap day only", "0 9 29 2 *", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCron(tt.line)
			if tt.ok {
				if err != nil {
					t.Errorf("ParseCron(%q) = %v, want accepted", tt.line, err)
				}
				return
			}
			if !errors.Is(err, ErrTooOften) || !errors.Is(err, ErrBadCron) {
				t.Errorf("ParseCron(%q) = %v, want ErrTooOften and ErrBadCron", tt.line, err)
			}
		})
	}
}

// TestTooOftenAgreesWithNext checks tooOften's reading of a line's fields
// against robfig's own Next, occurrence by occurrence, on lines made of the
// pieces people type (lists, ranges, steps, days of the month with weekdays),
// picked at random with a fixed seed.
func TestTooOftenAgreesWithNext(t *testing.T) {
	minutes := []string{"0", "30", "45", "0,30", "*/20"}
	hours := []string{"14", "19", "7", "8,14", "*"}
	doms := []string{"*", "1", "3", "29", "31", "1,8", "1,15", "1,22", "1,24", "1,29", "1-7", "*/10", "10-31/7"}
	months := []string{"*", "2", "1,3", "2,3", "1-6", "*/3", "12"}
	dows := []string{"*", "1", "5", "0,6", "1-5"}
	rng := rand.New(rand.NewPCG(22, 4))
	pick := func(xs []string) string {
		if rng.IntN(3) == 0 {
			return xs[0] // the common case more often
		}
		return xs[rng.IntN(len(xs))]
	}
	often, not := 0, 0
	for range 800 {
		line := strings.Join([]string{pick(minutes), pick(hours), pick(doms), pick(months), pick(dows)}, " ")
		s, err := cron.ParseStandard(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
			continue // never meets (the 31st of February): refused before
		}
		got, want := tooOften(s), tooOftenByNext(s)
		if got != want {
			t.Errorf("tooOften(%q) = %v, Next says %v", line, got, want)
		}
		if want {
			often++
		} else {
			not++
		}
	}
	// Both answers must be well represented for the comparison to mean much.
	if often < 50 || not < 50 {
		t.Errorf("lines tried: %d too often, %d not; want at least 50 of each", often, not)
	}
}

// tooOftenByNext asks Next for every occurrence from 2000 over checkYears and
// one year more, and compares consecutive ones' dates.
func tooOftenByNext(s cron.Schedule) bool {
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	end := from.AddDate(checkYears+1, 0, 0)
	for prev := s.Next(from); !prev.IsZero() && prev.Before(end); {
		next := s.Next(prev)
		if next.IsZero() || !next.Before(end) {
			return false
		}
		pd := time.Date(prev.Year(), prev.Month(), prev.Day(), 0, 0, 0, 0, time.UTC)
		nd := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, time.UTC)
		if nd.Sub(pd) < MinGapDays*24*time.Hour {
			return true
		}
		prev = next
	}
	return false
}

// TestRecurrenceRefusesTooOften: a stored line that meets too often (written
// before the rule, or brought by a backup) is no recurrence either.
func TestRecurrenceRefusesTooOften(t *testing.T) {
	if _, err := NewRecurrence("* * * * *", false, nil, time.UTC); !errors.Is(err, ErrTooOften) {
		t.Errorf("NewRecurrence(* * * * *) err = %v, want ErrTooOften", err)
	}
}

func TestParseLeads(t *testing.T) {
	tests := []struct {
		in   []string
		want []time.Duration
	}{
		{[]string{"3d", "1d", "2h"}, []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour}},
		{[]string{"2m", "90s"}, []time.Duration{2 * time.Minute, 90 * time.Second}},
		{[]string{"90s", "2m"}, []time.Duration{2 * time.Minute, 90 * time.Second}},
		{[]string{"1m"}, []time.Duration{time.Minute}},
		{[]string{"59s"}, nil}, // under MinLead: a crash could outlast it
		{[]string{"2h", "40s"}, nil},
		{[]string{"2h", "2H"}, []time.Duration{2 * time.Hour}},
		{[]string{"1h30m"}, []time.Duration{90 * time.Minute}},
		{[]string{"7d"}, []time.Duration{7 * 24 * time.Hour}},
		{[]string{"3x"}, nil},
		{[]string{"0s"}, nil},
		{[]string{"8d"}, nil},
		{[]string{"d"}, nil},
		{[]string{"3"}, nil},
		{[]string{"-3d"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		got, err := ParseLeads(tt.in)
		if tt.want == nil {
			if err == nil || !errors.Is(err, ErrBadLead) {
				t.Errorf("ParseLeads(%q) = %v, %v; want ErrBadLead", tt.in, got, err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("ParseLeads(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseLeads(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
		if again, _ := ParseLeads(splitFields(FormatLeads(got))); len(again) != len(got) {
			t.Errorf("FormatLeads(%v) = %q does not read back", got, FormatLeads(got))
		}
	}
}

func splitFields(s string) []string {
	var out []string
	cur := ""
	for _, r := range s {
		if r == ' ' {
			out = append(out, cur)
			cur = ""
			continue
		}
		cur += string(r)
	}
	return append(out, cur)
}

func TestReminderDue(t *testing.T) {
	hcm := mustLoc(t, "Asia/Ho_Chi_Minh")
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2025, m, d, h, min, 0, 0, hcm) }
	lunch := cell.QuietHours{Start: 12 * 60, End: 13*60 + 30}
	tests := []struct {
		name  string
		start time.Time
		lead  time.Duration
		quiet cell.QuietHours
		want  time.Time
	}{
		{"plain", at(4, 3, 14, 0), 2 * time.Hour, cell.DefaultQuiet, at(4, 3, 12, 0)},
		{"a day before", at(4, 3, 14, 0), 24 * time.Hour, cell.DefaultQuiet, at(4, 2, 14, 0)},
		// 07:00 less 2 h is 05:00, inside 21:30–06:00: a minute before 21:30 the evening before.
		{"early morning in quiet hours", at(4, 3, 7, 0), 2 * time.Hour, cell.DefaultQuiet, at(4, 2, 21, 29)},
		// 23:00 less 1 h is 22:00, inside the quiet hours that began at 21:30 that day.
		{"late evening in quiet hours", at(4, 3, 23, 0), time.Hour, cell.DefaultQuiet, at(4, 3, 21, 29)},
		{"same-day span", at(4, 3, 14, 0), time.Hour, lunch, at(4, 3, 11, 59)},
		{"no quiet hours", at(4, 3, 7, 0), 2 * time.Hour, cell.QuietHours{}, at(4, 3, 5, 0)},
		{"seconds", at(4, 3, 14, 0), 40 * time.Second, cell.DefaultQuiet, at(4, 3, 13, 59).Add(20 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReminderDue(tt.start, tt.lead, tt.quiet, hcm); !got.Equal(tt.want) {
				t.Errorf("ReminderDue = %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkParseCron: the weekly check is paid by every parse (each /schedule,
// each planning of a cell's recurrence).
func BenchmarkParseCron(b *testing.B) {
	for _, line := range []string{"0 14 3 * *", "0 19 * * 1", "* * * * *"} {
		b.Run(line, func(b *testing.B) {
			for b.Loop() {
				_, _ = ParseCron(line)
			}
		})
	}
}
