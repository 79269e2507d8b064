package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestScheduleAdoptsAMeetingSetByHand: the committee sets this month's meeting
// by hand, then a schedule whose occurrence falls at the same time. The
// schedule takes that meeting as its occurrence, with the place the committee
// chose: one meeting, and every member gets one notice of it.
func TestScheduleAdoptsAMeetingSetByHand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec, ctx := mc.secretary, context.Background()

	sec.Send("/meeting 03/12/2026 14:00 at Nhà văn hóa khu phố")
	sec.WaitMessage("Đã tạo buổi sinh hoạt")
	for _, u := range mc.members {
		u.WaitMessage("Thông báo sinh hoạt chi bộ")
	}
	sec.Send("/schedule 0 14 3 * * at Hội trường phường")
	sec.WaitMessage("Buổi tới: Thứ Năm, 03/12/2026 14:00")
	e.srv.WaitUntil(func() bool {
		ms, err := e.store.Meetings(ctx, mc.cell.ID, time.Unix(0, 0), time.Now().AddDate(5, 0, 0))
		return err == nil && len(ms) > 0 && !ms[0].Nominal.IsZero()
	})
	e.srv.WaitIdle()
	ms, err := e.store.Meetings(ctx, mc.cell.ID, time.Unix(0, 0), time.Date(2026, 12, 31, 0, 0, 0, 0, hcm))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Place != "Nhà văn hóa khu phố" {
		t.Fatalf("December's meetings: %+v, want the one set by hand, at its place", ms)
	}
	for name, u := range mc.members {
		if n := count(u, "Thông báo sinh hoạt chi bộ"); n != 1 {
			t.Errorf("%s got %d notices", name, n)
		}
	}
}
