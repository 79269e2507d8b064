package cell

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// QuietHours is a daily span, in the cell's time zone, when broadcasts wait.
// Start after End means the span crosses midnight (21:30–06:00).
type QuietHours struct {
	Start, End int // minutes after midnight; equal means no quiet hours
}

// DefaultQuiet is 21:30–06:00.
var DefaultQuiet = QuietHours{Start: 21*60 + 30, End: 6 * 60}

// quietDashes are the dashes a span may be written with: a keyboard's hyphen,
// and the en and em dashes of written text ("21:30–06:00").
const quietDashes = "-–—"

// ParseQuiet reads "HH:MM-HH:MM", the dash a hyphen, an en dash or an em dash,
// with or without spaces around it; an hour may have one digit ("6:00").
// Anything else, trailing text included, is an error.
func ParseQuiet(s string) (QuietHours, error) {
	bad := fmt.Errorf("not a span HH:MM-HH:MM: %q", s)
	i := strings.IndexAny(s, quietDashes)
	if i < 0 {
		return QuietHours{}, bad
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	start, ok1 := parseClock(strings.TrimFunc(s[:i], unicode.IsSpace))
	end, ok2 := parseClock(strings.TrimFunc(s[i+size:], unicode.IsSpace))
	if !ok1 || !ok2 {
		return QuietHours{}, bad
	}
	return QuietHours{Start: start, End: end}, nil
}

// parseClock reads "HH:MM" or "H:MM" as minutes after midnight.
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 23 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
