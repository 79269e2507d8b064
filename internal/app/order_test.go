package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestReplyComesBeforeWhatTheCommandCaused: the secretary's /meeting is
// answered before their own copy of the meeting's notice, and the answer to
// the next command comes after both, each chat's messages in order.
func TestReplyComesBeforeWhatTheCommandCaused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	for round := range 3 {
		day := 10 + round
		sec.Send("/meeting " + time.Date(2026, 12, day, 0, 0, 0, 0, hcm).Format("02/01/2006") + " 14:00")
		e.srv.WaitUntil(func() bool { return count(sec, "Thông báo sinh hoạt chi bộ") >= round+1 })
		sec.Send("/settings")
		e.srv.WaitUntil(func() bool { return count(sec, "Cài đặt của") >= round+1 })
	}
	var order []string
	for _, m := range sec.Messages() {
		switch {
		case strings.Contains(m.Text, "Đã tạo buổi"):
			order = append(order, "created")
		case strings.Contains(m.Text, "Thông báo sinh hoạt chi bộ"):
			order = append(order, "notice")
		case strings.Contains(m.Text, "Cài đặt của"):
			order = append(order, "settings")
		}
	}
	want := strings.Repeat("created notice settings ", 3)
	if got := strings.Join(order, " ") + " "; got != want {
		t.Errorf("the secretary's chat reads %q, want %q", got, want)
	}
}
