package cell

import (
	"fmt"
	"time"
)

// QuietHours is a daily span, in the cell's time zone, when broadcasts wait.
// Start after End means the span crosses midnight (21:30–06:00).
type QuietHours struct {
	Start, End int // minutes after midnight; equal means no quiet hours
}

// DefaultQuiet is 21:30–06:00.
var DefaultQuiet = QuietHours{Start: 21*60 + 30, End: 6 * 60}

// ParseQuiet reads "HH:MM-HH:MM".
func ParseQuiet(s string) (QuietHours, error) {
	var h1, m1, h2, m2 int
	if _, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil ||
		h1 < 0 || h1 > 23 || h2 < 0 || h2 > 23 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 {
		return QuietHours{}, fmt.Errorf("not a span HH:MM-HH:MM: %q", s)
	}
	return QuietHours{Start: h1*60 + m1, End: h2*60 + m2}, nil
}

func (q QuietHours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// Until returns the end of the quiet span that t falls in, in t's location, and
// false when t is not in quiet hours.
func (q QuietHours) Until(t time.Time) (time.Time, bool) {
	if q.Start == q.End {
		return time.Time{}, false
	}
	min := t.Hour()*60 + t.Minute()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	at := func(d time.Time, m int) time.Time { return d.Add(time.Duration(m) * time.Minute) }
	if q.Start < q.End { // same day, e.g. 12:00-13:30
		if min >= q.Start && min < q.End {
			return at(day, q.End), true
		}
		return time.Time{}, false
	}
	switch {
	case min >= q.Start: // evening: ends tomorrow
		return at(day.AddDate(0, 0, 1), q.End), true
	case min < q.End: // early morning
		return at(day, q.End), true
	}
	return time.Time{}, false
}

// Began returns the start of the quiet span that t falls in, in t's location, and
// false when t is not in quiet hours.
func (q QuietHours) Began(t time.Time) (time.Time, bool) {
	end, ok := q.Until(t)
	if !ok {
		return time.Time{}, false
	}
	// Wall-clock minutes back from the end, so a span across a DST change still
	// begins at its written time.
	day := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, end.Location())
	if q.Start > q.End {
		day = day.AddDate(0, 0, -1)
	}
	return day.Add(time.Duration(q.Start) * time.Minute), true
}
