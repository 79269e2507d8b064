package cell

import "time"

// Counts are the answers of a meeting's expected members, as the group sees
// them: no names.
type Counts struct {
	Expected, Coming, Excused, Unsure, NoAnswer int
}

// Tally counts the answers of the meeting's expected members (on day, the
// meeting's day in the cell's time zone), and lists those who have not answered.
func Tally(roster []Member, answers map[int64]Answer, day time.Time) (Counts, []Member) {
	var t Counts
	var silent []Member
	for _, m := range roster {
		if !m.Expected(day) {
			continue
		}
		t.Expected++
		switch answers[m.ID].Kind {
		case Coming:
			t.Coming++
		case Excused:
			t.Excused++
		case Unsure:
			t.Unsure++
		default:
			t.NoAnswer++
			silent = append(silent, m)
		}
	}
	return t, silent
}
