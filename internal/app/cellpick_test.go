package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/storage"
)

// TestSecretaryOfTwoCellsBroadcastsToThePickedOne: the secretary of two cells
// picks one with /cell (a button, then by name), and a broadcast reaches that
// cell's members only; the replies name the cell.
func TestSecretaryOfTwoCellsBroadcastsToThePickedOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.start()
	ctx := context.Background()
	a := seedCell(t, e, names(3), nil)
	sec := a.secretary

	// The second cell: set up last, so it is the one the secretary's private
	// commands act on until they pick.
	g := e.srv.Group("Chi bộ Khu phố 5")
	g.AddAdmin(sec)
	sec.SendIn(g, "/setup Chi bộ Khu phố 5")
	e.srv.WaitMessage(g.ID(), "Đã thiết lập Chi bộ Khu phố 5")
	b, err := e.store.CellByChat(ctx, g.ID())
	if err != nil {
		t.Fatal(err)
	}
	// Tests must not depend on the hour they run at: a broadcast waits out
	// the default quiet hours (21:30–06:00 in Hà Nội).
	if err := e.store.SetCellQuiet(ctx, b.ID, cell.QuietHours{}); err != nil {
		t.Fatal(err)
	}
	bNames := []string{"Nguyễn Thị Lan", "Phạm Văn Năm", "Hoàng Thị Sáu"}
	imported := count(sec, "Đã nhập 3 đồng chí")
	sec.SendDocument("roster.csv", []byte("name,standing,participation,until,reason\n"+strings.Join(bNames, ",official,regular,,\n")+",official,regular,,\n"), "/import")
	e.srv.WaitUntil(func() bool { return count(sec, "Đã nhập 3 đồng chí") > imported })
	bMembers := map[string]*telegramtest.User{}
	ms, err := e.store.Members(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.UserID != 0 {
			continue
		}
		u := e.srv.User(m.Name)
		u.Opened()
		if err := e.store.AddJoinRequest(ctx, b.ID, storage.JoinRequest{UserID: u.ID(), Name: m.Name, MemberID: m.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ConfirmJoin(ctx, b.ID, u.ID()); err != nil {
			t.Fatal(err)
		}
		bMembers[m.Name] = u
	}
	if len(bMembers) != 2 {
		t.Fatalf("linked %d members of the second cell, want 2", len(bMembers))
	}

	sec.Send("/cell")
	sec.WaitMessage("Xin chọn chi bộ")
	sec.Press("Chi bộ Khu phố 3")
	sec.WaitMessage("Từ nay các lệnh trong tin nhắn riêng áp dụng cho <b>Chi bộ Khu phố 3</b>")

	tests := []struct {
		name         string
		pick         string // "" when picked by the button above
		text         string
		tag          string
		reach, spare []*telegramtest.User
	}{
		{"picked by button", "", "Họp ở khu phố ba", "[Chi bộ Khu phố 3] ", others(a.members, sec), values(bMembers)},
		{"picked by name", "/cell khu pho 5", "Họp ở khu phố năm", "[Chi bộ Khu phố 5] ", values(bMembers), others(a.members, sec)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pick != "" {
				picked := count(sec, "Từ nay các lệnh trong tin nhắn riêng áp dụng cho")
				sec.Send(tt.pick)
				e.srv.WaitUntil(func() bool { return count(sec, "Từ nay các lệnh trong tin nhắn riêng áp dụng cho") > picked })
			}
			done := count(sec, "Đã gửi xong: 2/2")
			reports := countPrefixed(sec, tt.tag+"✅ Đã gửi xong: 2/2")
			sec.Send("/broadcast " + tt.text)
			for _, u := range tt.reach {
				u.WaitMessage(tt.text)
			}
			e.srv.WaitUntil(func() bool { return count(sec, "Đã gửi xong: 2/2") > done })
			// The progress message, which the report then replaces, names the cell.
			tagged := false
			for _, r := range e.srv.Requests("sendMessage") {
				if r.Params["chat_id"] == fmt.Sprint(sec.ID()) && strings.HasPrefix(r.Params["text"], tt.tag+"⏳ Đang gửi") {
					tagged = true
				}
			}
			if !tagged {
				t.Errorf("no progress message headed %q", tt.tag)
			}
			// And so does the report it becomes.
			if n := countPrefixed(sec, tt.tag+"✅ Đã gửi xong: 2/2"); n != reports+1 {
				t.Errorf("no report headed %q", tt.tag)
			}
			for _, u := range tt.spare {
				if n := count(u, tt.text); n != 0 {
					t.Errorf("a member of the other cell got the broadcast %d times", n)
				}
			}
		})
	}
	// A member of one cell only gets no cell's name on their replies.
	one := bMembers["Phạm Văn Năm"]
	one.Send("/cell")
	one.WaitMessage(fmt.Sprintf("Đồng chí có tên ở một chi bộ: <b>%s</b>", "Chi bộ Khu phố 5"))
}

func others(m map[string]*telegramtest.User, but *telegramtest.User) []*telegramtest.User {
	var out []*telegramtest.User
	for _, u := range m {
		if u != but {
			out = append(out, u)
		}
	}
	return out
}

func values(m map[string]*telegramtest.User) []*telegramtest.User { return others(m, nil) }

// countPrefixed counts the bot's messages to u that begin with prefix.
func countPrefixed(u *telegramtest.User, prefix string) int {
	n := 0
	for _, m := range u.Messages() {
		if strings.HasPrefix(m.Text, prefix) {
			n++
		}
	}
	return n
}
