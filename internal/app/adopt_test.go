package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
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

	// A schedule corrected to another day leaves the meeting set by hand as
	// it was, a one-off again: nobody is told it is cancelled.
	sec.Send("/schedule 0 14 5 * *")
	sec.WaitMessage("Đã đặt lịch sinh hoạt định kỳ")
	e.srv.WaitIdle()
	m, err := e.store.Meeting(ctx, mc.cell.ID, ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Open() || !m.Nominal.IsZero() || m.Place != "Nhà văn hóa khu phố" {
		t.Errorf("after another schedule, the meeting set by hand is %+v", m)
	}
	for name, u := range mc.members {
		if n := count(u, "Hoãn sinh hoạt chi bộ"); n != 0 {
			t.Errorf("%s was told %d times the meeting is off", name, n)
		}
	}
}

// TestVoteAtTheMeetingCheckingIn: two meetings on one afternoon, the first
// checking in; once the second's start has passed too, a vote still counts
// the members present at the one checking in.
func TestVoteAtTheMeetingCheckingIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mc := newMeetingCell(t, e)
	sec, ctx := mc.secretary, context.Background()
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi sinh hoạt định kỳ")
	sec.Send(`/meeting 03/12/2026 14:30 chuyên đề "Học tập nghị quyết"`)
	sec.WaitMessage("Đã tạo buổi sinh hoạt chuyên đề")
	mc.clock.Set(time.Date(2026, 12, 3, 13, 30, 0, 0, hcm))
	sec.Send("/checkin")
	var id int64
	e.srv.WaitUntil(func() bool {
		var err error
		id, err = e.store.OpenCheckinMeeting(ctx, mc.cell.ID)
		return err == nil
	})
	for _, name := range mc.regular[:3] {
		m := memberNamed(t, e, mc.cell.ID, name)
		if err := e.store.SetPresence(ctx, mc.cell.ID, id, cell.Presence{MemberID: m.ID, Mark: cell.PresentByRollCall, At: mc.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	mc.clock.Set(time.Date(2026, 12, 3, 14, 40, 0, 0, hcm))
	sec.Send("/vote 3 0 Nghị quyết tháng")
	sec.WaitMessage("Nghị quyết tháng (buổi họp")
}
