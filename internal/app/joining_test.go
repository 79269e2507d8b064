package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/storage"
)

// requestJoin walks a user through the deep link and the name, up to the
// request being sent.
func requestJoin(t *testing.T, u *telegramtest.User, payload, name, button string) {
	t.Helper()
	u.Start(payload)
	u.WaitMessage("họ và tên")
	u.Send(name)
	u.WaitMessage(name)
	u.Press(button)
	u.WaitMessage("chờ chi ủy xác nhận")
}

// TestJoinRequestsWaitForTheCommittee: /setup tells the
// secretary to open a private chat with a button; requests made before anyone on
// the committee opened the bot are announced (without names) in the group,
// listed first in /members, and reach the secretary when they open the bot.
func TestJoinRequestsWaitForTheCommittee(t *testing.T) {
	e := newEnv(t)
	e.start()
	sec := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(sec)
	// The secretary never opened the bot.
	sec.SendIn(g, "/setup Chi bộ Khu phố 3")
	done := e.srv.WaitMessage(g.ID(), "Đã thiết lập Chi bộ Khu phố 3")
	if !strings.Contains(done.Text, "mở trò chuyện riêng với bot") || len(done.Buttons) != 1 || done.Buttons[0][0].URL != "https://t.me/"+telegramtest.BotUsername {
		t.Errorf("/setup answer = %q, buttons %+v; want a button opening https://t.me/%s", done.Text, done.Buttons, telegramtest.BotUsername)
	}
	payload := joinPayload(t, e.srv.WaitMessage(g.ID(), "Mời các đồng chí bấm nút"))

	hoa := e.srv.User("Hoa")
	requestJoin(t, hoa, payload, "Lê Thị Hoa", "➕ Gửi yêu cầu với tên «Lê Thị Hoa»")
	notice := e.srv.WaitMessage(g.ID(), "bot chưa nhắn được cho chi ủy nào")
	if strings.Contains(notice.Text, "Lê Thị Hoa") {
		t.Errorf("the group notice names the member: %q", notice.Text)
	}

	// A second request meanwhile: the group is not told again.
	duc := e.srv.User("Đức")
	requestJoin(t, duc, payload, "Phạm Văn Đức", "➕ Gửi yêu cầu với tên «Phạm Văn Đức»")

	// The secretary opens the bot: the waiting requests reach them.
	sec.Start("")
	sec.WaitMessage("2 yêu cầu liên kết tài khoản đang chờ")
	e.srv.WaitUntil(func() bool {
		return countContaining(sec.Messages(), "Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Lê Thị Hoa") >= 1 &&
			countContaining(sec.Messages(), "Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Phạm Văn Đức") >= 1
	})
	// Each request's own message: an edit of the first may still be queued
	// behind the chat's rate limit when the second is pressed.
	for _, name := range []string{"Lê Thị Hoa", "Phạm Văn Đức"} {
		confirmNewcomer(e, sec, sec.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: "+name))
	}
	duc.WaitMessage("Chi ủy đã xác nhận")
	hoa.WaitMessage("Chi ủy đã xác nhận")

	// Another request, now that the secretary can be reached: no group notice,
	// and /members lists it before the roster.
	binh := e.srv.User("Bình")
	requestJoin(t, binh, payload, "Trần Văn Bình", "➕ Gửi yêu cầu với tên «Trần Văn Bình»")
	sec.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Trần Văn Bình")
	sec.Send("/members")
	list := sec.WaitMessage("Trang 1/1")
	sec.WaitMessage("1 yêu cầu liên kết tài khoản đang chờ")
	var header, request int
	for i, m := range sec.Messages() {
		switch {
		case strings.Contains(m.Text, "1 yêu cầu liên kết tài khoản đang chờ") && i > header:
			header = i
		case strings.Contains(m.Text, "Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Trần Văn Bình"):
			request = i
		}
	}
	if header == 0 || request < header || list.MessageID < sec.Messages()[request].MessageID {
		t.Errorf("pending request not listed before the roster (header %d, request %d)", header, request)
	}
	e.srv.WaitIdle()
	if n := countContaining(e.srv.Messages(g.ID()), "bot chưa nhắn được cho chi ủy nào"); n != 1 {
		t.Errorf("the group was told %d times that nobody on the committee can be reached, want once", n)
	}
}

// TestJoinRequestsExpire: a request older than 14 days is
// dropped, and the member is told: when the committee opens /members, and, with
// nobody looking, by the sweeper the bot runs from its start.
func TestJoinRequestsExpire(t *testing.T) {
	e := newEnv(t)
	b := e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	old := e.srv.User("Cũ")
	old.Opened()
	at := time.Now().Add(-15 * 24 * time.Hour).UnixNano()
	if err := e.store.AddJoinRequest(context.Background(), cs.cell.ID, storage.JoinRequest{UserID: old.ID(), Name: "Lê Thị Hoa", MemberID: 4, At: at}); err != nil {
		t.Fatal(err)
	}
	cs.secretary.Send("/members")
	cs.secretary.WaitMessage("Trang 1/1")
	old.WaitMessage("đã quá 14 ngày")
	if _, err := e.store.JoinRequestOf(context.Background(), cs.cell.ID, old.ID()); err == nil {
		t.Error("the expired request is still pending")
	}
	e.srv.WaitIdle()
	if n := countContaining(cs.secretary.Messages(), "yêu cầu liên kết tài khoản đang chờ"); n != 0 {
		t.Errorf("an expired request was listed")
	}

	quiet := e.srv.User("Im lặng")
	quiet.Opened()
	if err := e.store.AddJoinRequest(context.Background(), cs.cell.ID, storage.JoinRequest{UserID: quiet.ID(), Name: "Trần Văn An", MemberID: 3, At: at}); err != nil {
		t.Fatal(err)
	}
	b.stop()
	e.start()
	quiet.WaitMessage("đã quá 14 ngày")
	e.srv.WaitIdle()
	if n := countContaining(quiet.Messages(), "đã quá 14 ngày"); n != 1 {
		t.Errorf("told %d times, want once", n)
	}
}

// TestJoinButtonsCarryTheirRequest: an old notice cannot
// confirm a newer, different claim (made after withdrawing the first); an old
// "send the request with the name X" button cannot send the name typed since.
func TestJoinButtonsCarryTheirRequest(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec := cs.secretary
	u := e.srv.User("Khách")
	u.Start(cs.payload)
	u.WaitMessage("họ và tên")
	u.Send("Trần Văn Mới")
	u.WaitMessage("Không thấy tên «Trần Văn Mới»")
	u.Send("Phạm Văn Khác")
	u.WaitMessage("Không thấy tên «Phạm Văn Khác»")
	u.Press("➕ Gửi yêu cầu với tên «Trần Văn Mới»") // under the older answer
	e.srv.WaitIdle()
	if _, err := e.store.JoinRequestOf(context.Background(), cs.cell.ID, u.ID()); err == nil {
		t.Fatal("an old button sent a request under the name typed since")
	}
	u.Press("➕ Gửi yêu cầu với tên «Phạm Văn Khác»")
	u.WaitMessage("chờ chi ủy xác nhận")
	first := sec.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Phạm Văn Khác")
	oldData := confirmData(first)
	// The same user asks again, as an entry of the roster this time: the link
	// shows the request pending; they withdraw it and give the other name.
	u.Start(cs.payload)
	u.WaitMessage("yêu cầu đang chờ chi ủy xác nhận")
	u.Press("↩️ Rút yêu cầu")
	u.WaitMessage("Đã rút yêu cầu liên kết tài khoản với Chi bộ Khu phố 3")
	u.Send("Lê Thị Hoa")
	u.WaitMessage("Xin chọn đúng tên")
	u.Press("Tôi là Lê Thị Hoa")
	newData := confirmData(sec.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Lê Thị Hoa"))
	if newData == oldData {
		t.Fatalf("both notices carry %q", oldData)
	}
	sec.PressData(oldData)
	e.srv.WaitIdle()
	if m := rosterByName(t, e, cs.cell.ID)["Lê Thị Hoa"]; m.UserID != 0 {
		t.Fatalf("the old notice confirmed the newer claim: %+v", m)
	}
	if r := rosterByName(t, e, cs.cell.ID); len(r) != 4 {
		t.Fatalf("the old notice added a member: %d", len(r))
	}
	sec.PressData(newData) // the newer notice
	u.WaitMessage("Chi ủy đã xác nhận")
	if m := rosterByName(t, e, cs.cell.ID)["Lê Thị Hoa"]; m.UserID != u.ID() {
		t.Errorf("Lê Thị Hoa = %+v", m)
	}
}

// TestTwoSetupsInOneGroup: two /setup at once make one
// cell; the second caller is told.
func TestTwoSetupsInOneGroup(t *testing.T) {
	e := newEnv(t)
	e.start()
	a, b := e.srv.User("Lan"), e.srv.User("Bình")
	g := e.srv.Group("Chi bộ")
	g.AddAdmin(a)
	g.AddAdmin(b)
	a.Start("")
	b.Start("")
	var wg sync.WaitGroup
	wg.Go(func() { a.SendIn(g, "/setup Chi bộ Một") })
	wg.Go(func() { b.SendIn(g, "/setup Chi bộ Hai") })
	wg.Wait()
	e.srv.WaitUntil(func() bool { return countContaining(e.srv.Messages(g.ID()), "Nhóm này đã là chi bộ") == 1 })
	e.srv.WaitIdle()
	if n := countContaining(e.srv.Messages(g.ID()), "Đã thiết lập"); n != 1 {
		t.Errorf("%d cells announced, want one", n)
	}
	c := cellOf(t, e, g)
	for _, u := range []*telegramtest.User{a, b} {
		cells, err := e.store.UserCells(context.Background(), u.ID())
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range cells {
			if id != c.ID {
				t.Errorf("%d is in a stray cell %d", u.ID(), id)
			}
		}
	}
}

// TestRemovedFromGroup: removing the bot unbinds the
// group (the cell keeps its data) and tells the committee privately; adding it
// again and /setup bind the same cell again.
func TestRemovedFromGroup(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec, g := cs.secretary, cs.group
	removed, _ := json.Marshal(map[string]any{
		"chat":            map[string]any{"id": g.ID(), "type": "supergroup", "title": "Chi bộ Khu phố 3"},
		"from":            map[string]any{"id": sec.ID(), "is_bot": false, "first_name": "Nguyễn Thị Lan"},
		"date":            time.Now().Unix(),
		"old_chat_member": map[string]any{"status": "administrator", "user": map[string]any{"id": telegramtest.BotID, "is_bot": true, "first_name": "cellbot"}},
		"new_chat_member": map[string]any{"status": "left", "user": map[string]any{"id": telegramtest.BotID, "is_bot": true, "first_name": "cellbot"}},
	})
	e.srv.InjectUpdate("my_chat_member", removed)
	sec.WaitMessage("Bot đã bị đưa ra khỏi nhóm của Chi bộ Khu phố 3")
	if _, err := e.store.CellByChat(context.Background(), g.ID()); err == nil {
		t.Error("the group is still bound")
	}
	if n := len(rosterByName(t, e, cs.cell.ID)); n != 4 {
		t.Errorf("the cell has %d members after the removal, want 4", n)
	}
	sec.SendIn(g, "/setup Chi bộ Mới")
	e.srv.WaitMessage(g.ID(), "Nhóm đã được nối lại với Chi bộ Khu phố 3")
	c := cellOf(t, e, g)
	if c.ID != cs.cell.ID || c.ChatID != g.ID() {
		t.Errorf("after /setup the group is cell %d (chat %d), want %d", c.ID, c.ChatID, cs.cell.ID)
	}
	if r := rosterByName(t, e, c.ID); len(r) != 4 || r["Nguyễn Thị Lan"].Role != cell.RoleSecretary {
		t.Errorf("roster after rebinding: %d members", len(r))
	}
}

func confirmData(m telegramtest.Message) string {
	for _, r := range m.Buttons {
		for _, b := range r {
			if b.Text == "✅ Xác nhận" {
				return b.CallbackData
			}
		}
	}
	return ""
}
