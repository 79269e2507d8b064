package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

// Period is the span a report covers: a calendar quarter or a calendar year,
// bounded in the cell's time zone. A meeting is in the period when
// Start <= its start < End.
type Period struct {
	Year    int
	Quarter int // 1 to 4; 0 for the whole year
	Start   time.Time
	End     time.Time
}

// QuarterPeriod is the quarter q in loc.
func QuarterPeriod(q cell.Quarter, loc *time.Location) Period {
	return Period{Year: q.Year, Quarter: q.Q, Start: q.Start(loc), End: q.End(loc)}
}

// YearPeriod is the calendar year in loc.
func YearPeriod(year int, loc *time.Location) Period {
	start := time.Date(year, time.January, 1, 0, 0, 0, 0, loc)
	return Period{Year: year, Start: start, End: start.AddDate(1, 0, 0)}
}

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Label is the period as a report heads it: "quý II/2026", "Năm 2026".
func (p Period) Label(lang string) string {
	if p.Quarter == 0 {
		return texts.T(lang, texts.ReportPeriodYear, p.Year)
	}
	return texts.T(lang, texts.ReportPeriodQuarter, texts.QuarterNumeral(lang, p.Quarter), p.Year)
}

// slug is the period in a file name: "Q2-2026", "2026".
func (p Period) slug() string {
	if p.Quarter == 0 {
		return strconv.Itoa(p.Year)
	}
	return fmt.Sprintf("Q%d-%d", p.Quarter, p.Year)
}

// ParsePeriod reads the argument of /report: empty or "quarter" (quý) for the
// quarter of now, "year" (năm) for the year of now, "Q2", "Q2/2026" or
// "2/2026" for a quarter, "2026" for a year. now is read in loc, the cell's
// time zone. A *texts.Err with texts.ReportUsage is returned for anything else.
func ParsePeriod(arg string, now time.Time, loc *time.Location) (Period, error) {
	now = now.In(loc)
	a := strings.ReplaceAll(cell.Fold(arg), " ", "")
	switch a {
	case "", "quarter", "quy", "q":
		return QuarterPeriod(cell.QuarterOf(now, loc), loc), nil
	case "year", "nam":
		return YearPeriod(now.Year(), loc), nil
	}
	a = strings.TrimPrefix(strings.TrimPrefix(a, "quy"), "q")
	qs, ys, hasYear := strings.Cut(a, "/")
	if !hasYear {
		qs, ys, hasYear = strings.Cut(a, "-")
	}
	if !hasYear && len(a) == 4 {
		if y, err := strconv.Atoi(a); err == nil && y >= 2000 && y <= 2200 {
			return YearPeriod(y, loc), nil
		}
	}
	q, err := strconv.Atoi(qs)
	if err != nil || q < 1 || q > 4 {
		return Period{}, texts.Errorf(texts.ReportUsage)
	}
	y := now.Year()
	if hasYear {
		y, err = strconv.Atoi(ys)
		if err != nil || y < 2000 || y > 2200 {
			return Period{}, texts.Errorf(texts.ReportUsage)
		}
	}
	return QuarterPeriod(cell.Quarter{Year: y, Q: q}, loc), nil
}
