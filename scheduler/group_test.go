package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// TestGroupNoticeRefusedIsNotRetried: a group post that Telegram refuses as it
// is (a 400) is not tried again every lease; the item ends, and the committee
// is told once.
func TestGroupNoticeRefusedIsNotRetried(t *testing.T) {
	cr := newCrashRound(t)
	var sec int64
	for _, m := range cr.members {
		if m.Role.IsCommittee() {
			sec = m.UserID
		}
	}
	cr.start(t, func(rep *replica) (func(string, string), func(string, string)) {
		// Telegram refuses the post as it is: a 400, not worth a retry.
		rep.refuse = func(chat int64) error {
			if chat == cr.cell.ChatID {
				return &telegram.APIError{Code: 400, Description: "Bad Request: message is too long"}
			}
			return nil
		}
		return nil, nil
	})
	ctx := context.Background()
	item := storage.DueItem{Kind: storage.DueGroup, CellID: cr.cell.ID, MeetingID: cr.meeting.ID, Version: cr.meeting.Version, At: time.Now()}
	if err := cr.store.ScheduleDue(ctx, item); err != nil {
		t.Fatal(err)
	}
	k := cr.store.Keys()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := cr.rdb.ZCard(ctx, k.SchedDue()).Result()
		l, _ := cr.rdb.ZCard(ctx, k.SchedLeased()).Result()
		d, err := cr.store.QueueDepth(ctx)
		if err == nil && n+l == 0 && d.Ready[0]+d.Ready[1]+d.Leased == 0 && cr.box.count(sec) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused group notice's item did not end: due %d, leased %d, queue %+v", n, l, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cr.box.mu.Lock()
	got := cr.box.sent[sec]
	cr.box.mu.Unlock()
	if len(got) != 1 || !strings.Contains(got[0], "Telegram không nhận thông báo") {
		t.Errorf("the secretary got %q, want one message saying the group refused the notice", got)
	}
	if n := cr.box.count(cr.cell.ChatID); n != 0 {
		t.Errorf("the group got %d messages, want none", n)
	}
}

// TestQuarterWarning: the committee is warned once when the quarter has no
// topical meeting, and not when it has one (planned, not cancelled).
func TestQuarterWarning(t *testing.T) {
	for _, tt := range []struct {
		name    string
		topical bool
		want    int
	}{
		{"no topical meeting", false, 1},
		{"a topical meeting planned", true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cr := newCrashRound(t)
			ctx := context.Background()
			loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
			q := cell.QuarterOf(time.Now(), loc)
			if tt.topical {
				start := q.End(loc).Add(-time.Hour)
				if _, _, err := cr.store.CreateMeeting(ctx, "topical", cell.Meeting{CellID: cr.cell.ID, Kind: cell.KindTopical, Start: start}); err != nil {
					t.Fatal(err)
				}
			}
			cr.start(t, func(*replica) (func(string, string), func(string, string)) { return nil, nil })
			item := storage.DueItem{Kind: storage.DueQuarter, CellID: cr.cell.ID, Arg: int64(q.Year*10 + q.Q), At: time.Now()}
			for range 2 { // scheduled twice: one item, one warning
				if err := cr.store.ScheduleDue(ctx, item); err != nil {
					t.Fatal(err)
				}
			}
			var sec int64
			for _, m := range cr.members {
				if m.Role.IsCommittee() {
					sec = m.UserID
				}
			}
			k := cr.store.Keys()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				n, _ := cr.rdb.ZCard(ctx, k.SchedDue()).Result()
				l, _ := cr.rdb.ZCard(ctx, k.SchedLeased()).Result()
				d, err := cr.store.QueueDepth(ctx)
				if err == nil && n+l == 0 && d.Ready[0]+d.Ready[1]+d.Leased == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the quarter item did not end")
				}
			}
			if got := cr.box.count(sec); got != tt.want {
				t.Errorf("the secretary got %d warnings, want %d", got, tt.want)
			}
		})
	}
}
