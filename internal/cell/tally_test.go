package cell

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTally(t *testing.T) {
	day := time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC)
	roster := []Member{
		{ID: 1, Name: "Lan", Participation: Regular},
		{ID: 2, Name: "Bình", Participation: Regular},
		{ID: 3, Name: "Cường", Participation: Attached, Until: "2026-12-31"},
		{ID: 4, Name: "Dung", Participation: Exempt},                  // not expected: not counted
		{ID: 5, Name: "Em", Participation: Away, Until: "2026-03-01"}, // away until before the day: expected again
		{ID: 6, Name: "Giang", Participation: Regular},
	}
	answers := map[int64]Answer{
		1: {Kind: Coming}, 2: {Kind: Excused}, 3: {Kind: Unsure},
		4: {Kind: Coming}, // exempt and coming: not among the expected counts
	}
	got, silent := Tally(roster, answers, day)
	// Expected: 1, 2, 3, 5, 6 = 5; coming 1; excused 2; unsure 3; no answer 5, 6.
	want := Counts{Expected: 5, Coming: 1, Excused: 1, Unsure: 1, NoAnswer: 2}
	if got != want {
		t.Errorf("Tally = %+v, want %+v", got, want)
	}
	var names []string
	for _, m := range silent {
		names = append(names, m.Name)
	}
	if diff := cmp.Diff([]string{"Em", "Giang"}, names); diff != "" {
		t.Errorf("silent (-want +got):\n%s", diff)
	}
}
