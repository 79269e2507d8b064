package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/scheduler"
)

// TestReminderSaysWhen: a reminder says the meeting's time in words that stay
// true while it waits in the queue: the clock time today or tomorrow, in the
// cell's time zone, else the days left; never "in 2 hours".
func TestReminderSaysWhen(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	c := cell.Cell{Name: "Chi bộ 3", TimeZone: "Asia/Ho_Chi_Minh"}
	m := cell.Meeting{Kind: cell.KindRegular, Start: time.Date(2026, 4, 3, 14, 0, 0, 0, loc)}
	tests := []struct {
		name string
		now  time.Time
		lang string
		want string
	}{
		{"two hours before", time.Date(2026, 4, 3, 12, 0, 0, 0, loc), texts.VI, "(họp lúc 14:00 hôm nay)"},
		// 23:30 UTC on the 2nd is 06:30 on the 3rd in Hà Nội: still today.
		{"early morning, UTC's yesterday", time.Date(2026, 4, 2, 23, 30, 0, 0, time.UTC), texts.VI, "(họp lúc 14:00 hôm nay)"},
		{"the day before", time.Date(2026, 4, 2, 14, 0, 0, 0, loc), texts.VI, "(họp lúc 14:00 ngày mai)"},
		{"three days before", time.Date(2026, 3, 31, 14, 0, 0, 0, loc), texts.VI, "(họp sau 3 ngày nữa)"},
		{"in English", time.Date(2026, 4, 2, 20, 0, 0, 0, loc), texts.EN, "(tomorrow at 14:00)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scheduler.ReminderText(tt.lang, c, m, tt.now, false)
			if !strings.Contains(got, tt.want) {
				t.Errorf("reminder %q lacks %q", got, tt.want)
			}
			if strings.Contains(got, "còn") || strings.Contains(got, "to go") {
				t.Errorf("reminder %q counts down", got)
			}
		})
	}
}
