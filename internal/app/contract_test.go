package app_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestContractWords drives the words the product contract names, exactly as a
// user types and presses them: /lang en and the English RSVP buttons, the
// Vietnamese ones and the reason buttons, /cancel, commands refused in the
// wrong kind of chat, "chuyên đề", a Vietnamese /leave cause, lead times in
// each unit, /quiet, and the menus by role and chat.
func TestContractWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	vi, en := mc.members[mc.regular[0]], mc.members[mc.regular[1]]

	en.Send("/lang en")
	en.WaitMessage("Language set to English")

	sec.Send("/cancel")
	sec.WaitMessage("Không có việc gì đang làm dở")
	sec.SendIn(mc.group, "/members")
	e.srv.WaitMessage(mc.group.ID(), "Lệnh này dùng trong tin nhắn riêng")
	sec.Send("/setup Chi bộ khác")
	sec.WaitMessage("Lệnh này dùng trong nhóm Telegram")

	sec.Send("/meeting 03/12/2026 14:00 chuyên đề at Nhà văn hóa")
	sec.WaitMessage("Đã tạo buổi")
	e.srv.WaitMessage(mc.group.ID(), "Thông báo sinh hoạt chi bộ")
	m := vi.WaitMessage("Thông báo sinh hoạt chi bộ")
	for _, l := range []string{"✅ Tham dự", "❌ Xin vắng", "❔ Chưa chắc"} {
		if !hasButton(m, l) {
			t.Errorf("vi notice lacks %q: %+v", l, m.Buttons)
		}
	}
	m = en.WaitMessage("ttend")
	for _, l := range []string{"✅ Attending", "❌ Excused", "❔ Not sure"} {
		if !hasButton(m, l) {
			t.Errorf("en notice lacks %q: %+v", l, m.Buttons)
		}
	}
	vi.Press("❌ Xin vắng")
	m = vi.WaitMessage("Xin đồng chí chọn lý do")
	for _, l := range []string{"🧳 Công tác, đi xa", "🤒 Ốm đau", "🏠 Việc gia đình", "✏️ Lý do khác"} {
		if !hasButton(m, l) {
			t.Errorf("reason buttons lack %q: %+v", l, m.Buttons)
		}
	}
	en.Press("❌ Excused")
	en.WaitMessage("Please choose the reason")

	sec.Send("/leave " + mc.regular[3] + " từ trần")
	sec.WaitMessage("từ trần")

	sec.Send("/reminders 3d 1d 2h 30m 90s")
	sec.WaitMessage("Đã đặt nhắc lịch")
	sec.Send("/quiet 22:00-06:00")
	sec.WaitMessage("22:00")
	sec.Send("/settings")
	sec.WaitMessage("22:00")

	// Menus: the committee's private chat adds the committee's commands.
	e.srv.WaitUntil(func() bool {
		return hasCommand(e.srv.CommandsFor("chat:"+strconv.FormatInt(sec.ID(), 10), ""), "members")
	})
	for _, scope := range []string{"default", "all_group_chats"} {
		if hasCommand(e.srv.CommandsFor(scope, ""), "members") {
			t.Errorf("%s menu shows /members", scope)
		}
	}
	if !hasCommand(e.srv.CommandsFor("all_group_chats", ""), "join") {
		t.Errorf("group menu lacks /join: %+v", e.srv.CommandsFor("all_group_chats", ""))
	}
}

func hasButton(m telegramtest.Message, label string) bool {
	for _, r := range m.Buttons {
		for _, b := range r {
			if b.Text == label {
				return true
			}
		}
	}
	return false
}

func hasCommand(cs []telegramtest.Command, name string) bool {
	for _, c := range cs {
		if strings.TrimPrefix(c.Command, "/") == name {
			return true
		}
	}
	return false
}
