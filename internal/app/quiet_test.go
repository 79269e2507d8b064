package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// TestQuietHoursHoldBroadcasts: a broadcast sent in the cell's quiet hours waits
// in the queue until they end, and the secretary is told when it will go.
func TestQuietHoursHoldBroadcasts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	s := seedCell(t, e, names(3), nil)
	now := time.Now().In(s.cell.Location())
	min := now.Hour()*60 + now.Minute()
	q := cell.QuietHours{Start: (min + 1440 - 60) % 1440, End: (min + 120) % 1440}
	if err := e.store.SetCellQuiet(context.Background(), s.cell.ID, q); err != nil {
		t.Fatal(err)
	}
	s.secretary.Send("/broadcast Thông báo ban đêm")
	held := s.secretary.WaitMessage("Đang giờ nghỉ")
	until, _ := q.Until(now)
	if want := until.Format("02/01/2006 ") + until.Format("15:04"); !strings.Contains(held.Text, want) {
		t.Errorf("quiet notice = %q, want the time %s", held.Text, want)
	}
	e.srv.WaitIdle()
	// A worker may hold one for a moment to look at the quiet hours again.
	e.srv.WaitUntil(func() bool {
		depth, err := e.store.QueueDepth(context.Background())
		return err == nil && depth.Ready[1] >= 2
	})
	for name, u := range s.members {
		if n := countContaining(u.Messages(), "Thông báo ban đêm"); n != 0 {
			t.Errorf("%s got the broadcast in quiet hours", name)
		}
	}
}
