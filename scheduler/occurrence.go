package scheduler

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/cellbot/cellbot/internal/cell"
)

// ErrBadCron is a cron line that cannot describe a monthly meeting.
var ErrBadCron = errors.New("scheduler: bad cron line")

// ErrTooOften is a cron line that meets more than once a week: each
// occurrence is a meeting whose notice and reminders go to every member, so
// "* * * * *" would message everyone every minute. An error that matches it
// matches ErrBadCron too.
var ErrTooOften = errors.New("scheduler: cron line meets more than once a week")

// MinGapDays is the fewest calendar days between two occurrences of a cell's
// regular meeting: at most one a week.
const MinGapDays = 7

// checkYears is how many years of occurrences ParseCron looks at: the
// Gregorian calendar's dates and weekdays repeat every 28 years (from 1901 to
// 2099), so a line that ever meets twice within a week does so in them, be it
// only in a leap year (the 29th of February and the 1st of March) or when a
// day of the month falls near a weekday the line also names.
const checkYears = 28

// maxShift is the furthest workday moves an occurrence (a weekend and a long
// holiday such as Tết): Next looks this far back for a nominal time that moved
// past the time asked about.
const maxShift = 14 * 24 * time.Hour

// Recurrence is a cell's regular meeting: a 5-field cron line in the cell's time
// zone, and whether occurrences on a weekend or holiday move to the next working
// day.
type Recurrence struct {
	schedule cron.Schedule
	line     string
	workday  bool
	holidays map[string]bool // yyyy-mm-dd
	loc      *time.Location
}

// ParseCron checks a 5-field cron line (minute hour day-of-month month
// day-of-week, as /schedule takes it). Time zone prefixes and descriptors
// (@every) are refused: the cell's time zone applies, and a meeting is not an
// interval. So is a line that meets more than once a week (ErrTooOften).
func ParseCron(line string) (cron.Schedule, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "@") || strings.HasPrefix(line, "TZ=") || strings.HasPrefix(line, "CRON_TZ=") {
		return nil, fmt.Errorf("%w: %q", ErrBadCron, line)
	}
	if len(strings.Fields(line)) != 5 {
		return nil, fmt.Errorf("%w: %q: want 5 fields", ErrBadCron, line)
	}
	s, err := cron.ParseStandard(line)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrBadCron, line, err)
	}
	// A line that parses may still never fire (0 14 30 2 *).
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("%w: %q never happens", ErrBadCron, line)
	}
	if tooOften(s) {
		return nil, fmt.Errorf("%w: %w: %q", ErrBadCron, ErrTooOften, line)
	}
	return s, nil
}

// tooOften reports whether s meets twice on one day, or on two dates fewer
// than MinGapDays apart. It counts days between dates, not hours between
// times, so that a weekly meeting in a zone with daylight saving (a week of
// 167 hours) is still weekly, and reads the line's fields as Next applies them:
// a date matches when its month does and, when the day-of-month or the weekday
// field is a star, both of them, else either (Vixie cron's rule). The fields
// are wall-clock fields, so the calendar is walked without a zone, day by day
// from 2000 (a leap year) over checkYears and one year more, for the pair
// across the cycle's end: about 10,600 steps, where asking Next for every
// occurrence costs milliseconds a line. A test checks this reading against
// Next.
func tooOften(s cron.Schedule) bool {
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return true // only descriptors (@every) parse to other schedules
	}
	const star = 1 << 63 // robfig's mark of a field written as * or ?
	perDay := bits.OnesCount64(spec.Second&^star) * bits.OnesCount64(spec.Minute&^star) * bits.OnesCount64(spec.Hour&^star)
	if perDay > 1 {
		return true
	}
	either := spec.Dom&star == 0 && spec.Dow&star == 0
	wd := time.Saturday // 1 January 2000
	day, last, seen := 0, 0, false
	for y := 2000; y <= 2000+checkYears; y++ {
		for m := time.January; m <= time.December; m++ {
			n := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
			for d := 1; d <= n; d++ {
				dom, dow := spec.Dom&(1<<d) != 0, spec.Dow&(1<<wd) != 0
				if spec.Month&(1<<m) != 0 && (dom && dow || either && (dom || dow)) {
					if seen && day-last < MinGapDays {
						return true
					}
					last, seen = day, true
				}
				day, wd = day+1, (wd+1)%7
			}
		}
	}
	return false
}

// NewRecurrence builds a cell's recurrence; holidays are yyyy-mm-dd dates.
func NewRecurrence(line string, workday bool, holidays []string, loc *time.Location) (*Recurrence, error) {
	s, err := ParseCron(line)
	if err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	h := make(map[string]bool, len(holidays))
	for _, d := range holidays {
		h[d] = true
	}
	return &Recurrence{schedule: s, line: strings.TrimSpace(line), workday: workday, holidays: h, loc: loc}, nil
}

// Occurrence is one meeting of a recurrence: Nominal is the time the cron line
// gives (it names the occurrence, whatever moves it), Start when it takes place.
type Occurrence struct {
	Nominal time.Time
	Start   time.Time
}

// Next returns the first occurrence that starts after t. With workday, an
// occurrence whose nominal day is a weekend or holiday starts on the next working
// day at the same clock time; so a nominal time before t may still start after it.
func (r *Recurrence) Next(t time.Time) (Occurrence, bool) {
	from := t.In(r.loc)
	if r.workday {
		from = from.Add(-maxShift)
	}
	for i := 0; i < 400; i++ {
		n := r.schedule.Next(from)
		if n.IsZero() {
			return Occurrence{}, false
		}
		start := r.move(n)
		if start.After(t) {
			return Occurrence{Nominal: n, Start: start}, true
		}
		from = n
	}
	return Occurrence{}, false
}

// move applies workday: the next day that is neither a weekend nor a holiday, at
// the same wall-clock time.
func (r *Recurrence) move(n time.Time) time.Time {
	if !r.workday {
		return n
	}
	d := n
	for i := 0; i < 60 && r.dayOff(d); i++ {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, n.Hour(), n.Minute(), 0, 0, r.loc)
	}
	return d
}

func (r *Recurrence) dayOff(d time.Time) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday || r.holidays[d.Format(time.DateOnly)]
}

// DefaultLeads are the reminder lead times of a cell that set none: 3d 1d 2h.
var DefaultLeads = []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour}

// MaxLead is the longest lead time taken (a notice goes 7 days before).
const MaxLead = 7 * 24 * time.Hour

// ErrBadLead is a lead time that is not a number with a unit d, h, m or s.
var ErrBadLead = errors.New("scheduler: bad lead time")

// MinLead is the shortest lead time taken. When a process dies holding a
// reminder, another one takes it over within Takeover; a minute leaves room
// for that and for the sending, so that a reminder is never lost to a crash.
const MinLead = time.Minute

// ErrShortLead is a lead time under MinLead.
var ErrShortLead = fmt.Errorf("%w: shorter than %s", ErrBadLead, FormatLead(MinLead))

// ParseLeads reads lead times such as "3d 1d 2h" or "2m 40s" (one unit each;
// "1h30m" too), longest first, without repeats.
func ParseLeads(args []string) ([]time.Duration, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrBadLead)
	}
	seen := map[time.Duration]bool{}
	var out []time.Duration
	for _, a := range args {
		d, err := parseLead(a)
		if err != nil {
			return nil, err
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	if len(out) > 6 {
		return nil, fmt.Errorf("%w: at most 6 lead times", ErrBadLead)
	}
	return out, nil
}

func parseLead(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 4 {
			return 0, fmt.Errorf("%w: %q", ErrBadLead, s)
		}
		n, _ := strconv.Atoi(rest[:i])
		var unit time.Duration
		switch rest[i] {
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		case 's':
			unit = time.Second
		default:
			return 0, fmt.Errorf("%w: %q", ErrBadLead, s)
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if total <= 0 || total > MaxLead {
		return 0, fmt.Errorf("%w: %q", ErrBadLead, s)
	}
	if total < MinLead {
		return 0, fmt.Errorf("%w: %q", ErrShortLead, s)
	}
	return total, nil
}

// FormatLead writes a lead time as ParseLeads reads it: "3d", "2h", "1h30m", "40s".
func FormatLead(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var sb strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			sb.WriteString(strconv.FormatInt(int64(n), 10))
			sb.WriteString(u.s)
			d -= n * u.d
		}
	}
	return sb.String()
}

// FormatLeads writes lead times separated by spaces.
func FormatLeads(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = FormatLead(d)
	}
	return strings.Join(parts, " ")
}

// ReminderDue is when the reminder lead before start is due: start-lead, or, when
// that falls in the cell's quiet hours, a minute before they begin (reminders
// due in quiet hours go out just before they begin).
func ReminderDue(start time.Time, lead time.Duration, quiet cell.QuietHours, loc *time.Location) time.Time {
	due := start.Add(-lead).In(loc)
	if began, ok := quiet.Began(due); ok {
		return began.Add(-time.Minute)
	}
	return due
}

// NoticeLead is how long before a recurring meeting its notice goes out.
const NoticeLead = 7 * 24 * time.Hour
