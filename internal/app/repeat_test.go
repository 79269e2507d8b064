package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestSamePressTwiceEditsNothing: a member who presses the answer already
// chosen, again and again, gets each press answered and no edit Telegram would
// refuse as "message is not modified"; a member's list before the roster has
// anyone goes without an empty keyboard, which Telegram refuses as null.
func TestSamePressTwiceEditsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi sinh hoạt")
	u := mc.members[mc.regular[0]]
	u.WaitMessage("Thông báo sinh hoạt chi bộ")
	chat := fmt.Sprint(u.ID())
	answers := func() int {
		n := 0
		for _, r := range e.srv.Requests("answerCallbackQuery") {
			if r.Code == 200 {
				n++
			}
		}
		return n
	}
	before := answers()
	const presses = 4
	for i := range presses {
		u.Press("✅ Tham dự")
		e.srv.WaitUntil(func() bool { return answers() >= before+i+1 })
	}
	// A different answer edits the message; replies to one chat go in order,
	// so any edit of the presses before it has been sent by then.
	u.Press("❔ Chưa chắc")
	e.srv.WaitUntil(func() bool {
		for _, r := range e.srv.Requests("editMessageText") {
			if r.Params["chat_id"] == chat && strings.Contains(r.Params["text"], "Chưa chắc") {
				return true
			}
		}
		return false
	})
	edits, refused := 0, 0
	for _, r := range e.srv.Requests("editMessageText") {
		if r.Params["chat_id"] != chat {
			continue
		}
		edits++
		if r.Code != 200 {
			refused++
			t.Errorf("edit refused: %d %s", r.Code, r.Description)
		}
	}
	if edits != 2 || refused != 0 {
		t.Errorf("%d presses of one answer, then another: %d edits (%d refused), want 2", presses, edits, refused)
	}

	// A cell with nobody on its roster yet: /members answers without a keyboard
	// Telegram refuses.
	g := e.srv.Group("Chi bộ trống")
	g.AddAdmin(sec)
	sec.SendIn(g, "/setup Chi bộ trống")
	e.srv.WaitMessage(g.ID(), "Đã thiết lập Chi bộ trống")
	// The secretary's private commands act on the cell set up last.
	sec.Send("/members")
	sec.WaitMessage("Danh sách chưa có ai")
	for _, r := range e.srv.Requests("sendMessage") {
		if r.Code != 200 {
			t.Errorf("sendMessage refused: %d %s (%q)", r.Code, r.Description, r.Params["text"])
		}
	}
}
