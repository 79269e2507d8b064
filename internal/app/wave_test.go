package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestRemindersPlannedAhead: a round of reminders starts half an hour before
// its due time and is spread over that half hour (the test's clock stands
// still: what is planned later waits), each saying the meeting's time rather
// than "in 2 hours"; a member who asks to be excused once the round has begun
// is not reminded; the group's counts come at the end, with that answer
// counted.
func TestRemindersPlannedAhead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	ctx := context.Background()

	sec.Send("/reminders 2h")
	sec.WaitMessage("Đã đặt nhắc lịch trước giờ họp: 2h")
	sec.Send("/meeting 01/12/2026 14:00 at Nhà văn hóa khu phố")
	sec.WaitMessage("Đã tạo buổi sinh hoạt định kỳ lúc Thứ Ba, 01/12/2026 14:00")
	for _, u := range mc.members {
		u.WaitMessage("Thông báo sinh hoạt chi bộ")
	}
	expected := []string{mc.secretaryName, mc.regular[0], mc.regular[1], mc.regular[2], mc.regular[3]}

	// The "2h" reminder is due at 12:00; at 11:30:10 its round has begun: its
	// reminders wait in the wave, each for its moment in the half hour, and at
	// most the first has gone.
	mc.advance(t, time.Date(2026, 12, 1, 11, 30, 10, 0, hcm))
	reminded := func() int {
		n := 0
		for _, name := range expected {
			n += count(mc.members[name], "Nhắc lịch sinh hoạt chi bộ")
		}
		return n
	}
	untilStored(t, func() bool {
		d, err := e.store.QueueDepth(ctx)
		return err == nil && d.Wave > 0 && int(d.Wave)+reminded() == len(expected)
	})
	if n := reminded(); n > 1 {
		t.Errorf("%d members were reminded at once; the round is spread over the half hour", n)
	}
	// Meanwhile a member not reminded yet asks to be excused.
	var late *telegramtest.User
	for _, name := range expected[1:] {
		if count(mc.members[name], "Nhắc lịch sinh hoạt chi bộ") == 0 {
			late = mc.members[name]
			break
		}
	}
	late.Press("❌ Xin vắng")
	late.WaitMessage("Xin đồng chí chọn lý do")

	mc.advance(t, time.Date(2026, 12, 1, 11, 59, 50, 0, hcm))
	for _, name := range expected {
		if u := mc.members[name]; u != late {
			r := u.WaitMessage("Nhắc lịch sinh hoạt chi bộ")
			if !strings.Contains(r.Text, "họp lúc 14:00 hôm nay") {
				t.Errorf("the reminder says %q; want the meeting's time", r.Text)
			}
		}
	}
	// The round's own post, not the notice's live counts.
	var counts string
	e.srv.WaitUntil(func() bool {
		for _, m := range e.srv.Messages(mc.group.ID()) {
			if strings.HasPrefix(m.Text, "📊") {
				counts = m.Text
				return true
			}
		}
		return false
	})
	if !strings.Contains(counts, "1 xin vắng") {
		t.Errorf("the group's counts %q; want the member excused meanwhile counted", counts)
	}
	untilStored(t, func() bool {
		d, err := e.store.QueueDepth(ctx)
		return err == nil && d.Wave+d.Ready[0]+d.Ready[1]+d.Leased == 0
	})
	if n := count(late, "Nhắc lịch sinh hoạt chi bộ"); n != 0 {
		t.Errorf("the member excused after the round began was reminded %d times", n)
	}
	for _, name := range expected {
		if mc.members[name] == late {
			continue
		}
		if n := count(mc.members[name], "Nhắc lịch sinh hoạt chi bộ"); n != 1 {
			t.Errorf("%s was reminded %d times, want once", name, n)
		}
	}
}

// untilStored waits until cond, a condition on what the bot stored in Redis,
// holds: the Bot API server's WaitUntil looks again only when a request
// reaches it, and nothing reaches it while a round waits in the wave.
func untilStored(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatal("what the bot stored did not come to the expected state within 30 s")
		}
	}
}
