package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestMembersPagesAndCards: /members pages through the 74-member roster, a name
// opens a card, and the card's buttons change participation, standing and role.
func TestMembersPagesAndCards(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, readFile(t, "roster74.csv"), 74)
	secretary, c := cs.secretary, cs.cell

	secretary.Send("/members")
	first := secretary.WaitMessage("Trang 1/4")
	if !strings.Contains(first.Text, "74 đồng chí (51 sinh hoạt thường xuyên, 15 miễn sinh hoạt, 8 tạm miễn, 0 sinh hoạt tạm thời)") ||
		!strings.Contains(first.Text, "📵 chưa có Telegram") {
		t.Errorf("roster header = %q", first.Text)
	}
	// Each name once: on its button, not in the text as well.
	if n := len(first.Buttons); n != 21 {
		t.Errorf("first page has %d rows of buttons, want 20 names and the pager", n)
	}
	for _, row := range first.Buttons[:20] {
		if name := buttonName(row[0].Text); strings.Contains(first.Text, name) {
			t.Errorf("%s is both in the text and on a button", name)
		}
	}
	secretary.Press("Sau ›")
	secretary.WaitMessage("Trang 2/4")
	secretary.Press("‹ Trước")
	list := secretary.WaitMessage("Trang 1/4")
	if list.MessageID != first.MessageID {
		t.Errorf("paging sent a new message instead of editing the list")
	}

	label := list.Buttons[0][0].Text
	name := buttonName(label)
	secretary.Press(label)
	card := secretary.WaitMessage("Chức vụ:")
	if !strings.HasPrefix(card.Text, name) {
		t.Fatalf("card = %q, want it to start with %q", card.Text, name)
	}
	secretary.Press("Miễn")
	secretary.WaitMessage(name + "\nĐảng viên chính thức · miễn sinh hoạt")
	secretary.Press("Đổi chính thức/dự bị")
	secretary.WaitMessage("từ đảng viên chính thức sang đảng viên dự bị?")
	secretary.Press("✅ Đồng ý")
	secretary.WaitMessage(name + "\nĐảng viên dự bị · miễn sinh hoạt")
	secretary.Press("Cấp quyền chi ủy trên bot")
	secretary.WaitMessage("Chức vụ: chi ủy viên")
	m := rosterByName(t, e, c.ID)[name]
	if m.Participation != cell.Exempt || m.Standing != cell.Probationary || m.Role != cell.RoleCommittee {
		t.Errorf("after the card's buttons: %+v", m)
	}
	secretary.Press("Bỏ quyền chi ủy trên bot")
	secretary.WaitMessage("Chức vụ: đảng viên")
	secretary.Press("« Danh sách")
	secretary.WaitMessage("Trang 1/4")
}

// buttonName is the member's name on a roster button: "📵 Trần Văn Bình · miễn"
// is "Trần Văn Bình".
func buttonName(label string) string {
	_, rest, _ := strings.Cut(label, " ")
	name, _, _ := strings.Cut(rest, " · ")
	return name
}

// TestHelpByRoleAndDeclinedJoin: /help says what each person can do; a declined
// join links nothing.
func TestHelpByRoleAndDeclinedJoin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	secretary, g, payload, c := cs.secretary, cs.group, cs.payload, cs.cell
	member := e.srv.User("Hoa")
	joinAs(t, member, secretary, payload, "Lê Thị Hoa")
	g.Add(member)
	committee := e.srv.User("An")
	joinAs(t, committee, secretary, payload, "Nguyễn Văn An")
	secretary.Send("/promote Nguyễn Văn An")
	secretary.WaitMessage("Nguyễn Văn An đã được cấp quyền chi ủy trên Bot")
	guest := e.srv.User("Khách")
	guest.Start("")

	tests := []struct {
		who        string
		send       func()
		chat       int64
		want, deny []string
	}{
		{"guest", func() { guest.Send("/help") }, guest.ID(), []string{"Để đăng ký nhận tin"}, []string{"/members"}},
		{"member", func() { member.Send("/help") }, member.ID(), []string{"/cancel — Hủy việc đang làm dở", "không cần làm gì thêm", "✅ Tham dự"}, []string{"/members", "/promote", "/import"}},
		{"committee", func() { committee.Send("/help") }, committee.ID(), []string{"Các lệnh của chi ủy", "/broadcast"}, []string{"/promote"}},
		{"secretary", func() { secretary.Send("/help") }, secretary.ID(), []string{"Các lệnh của chi ủy", "Riêng bí thư"}, nil},
		{"group", func() { member.SendIn(g, "/help") }, g.ID(), []string{"/join"}, []string{"/members"}},
	}
	for _, tt := range tests {
		t.Run(tt.who, func(t *testing.T) {
			tt.send()
			m := e.srv.WaitMessage(tt.chat, tt.want[0])
			for _, w := range tt.want {
				if !strings.Contains(m.Text, w) {
					t.Errorf("help for %s has no %q: %q", tt.who, w, m.Text)
				}
			}
			for _, d := range tt.deny {
				if strings.Contains(m.Text, d) {
					t.Errorf("help for %s offers %q", tt.who, d)
				}
			}
		})
	}

	// The committee member declines a join; nothing is linked.
	stranger := e.srv.User("Lạ")
	stranger.Start(payload)
	stranger.WaitMessage("họ và tên")
	stranger.Send("Trần Văn An")
	stranger.WaitMessage("Xin chọn đúng tên")
	stranger.Press("Tôi là Trần Văn An")
	committee.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Trần Văn An")
	committee.Press("✖️ Không xác nhận")
	stranger.WaitMessage("Chi ủy chưa xác nhận việc liên kết tài khoản Telegram này với Chi bộ Khu phố 3 trên Bot")
	committee.WaitMessage("Không xác nhận Trần Văn An")
	// The secretary's copy of the request is now out of date.
	secretary.Press("✅ Xác nhận")
	e.srv.WaitIdle()
	if m := rosterByName(t, e, c.ID)["Trần Văn An"]; m.UserID != 0 {
		t.Errorf("a declined join linked %+v", m)
	}
}

// TestGroupHelpByRole: /help in the cell's group lists what the sender can do
// there: the committee's commands for the committee only.
func TestGroupHelpByRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	secretary, g, payload := cs.secretary, cs.group, cs.payload
	member := e.srv.User("Hoa")
	joinAs(t, member, secretary, payload, "Lê Thị Hoa")
	committee := e.srv.User("An")
	joinAs(t, committee, secretary, payload, "Nguyễn Văn An")
	secretary.Send("/promote Nguyễn Văn An")
	secretary.WaitMessage("Nguyễn Văn An đã được cấp quyền chi ủy trên Bot")
	stranger := e.srv.User("Khách")
	for _, u := range []*telegramtest.User{member, committee, stranger} {
		g.Add(u)
	}

	// Committee-only commands usable in a group, and what everyone there can do.
	committeeOnly := []string{"/schedule", "/meeting ", "/quiet", "/close", "/agenda"}
	everyone := []string{"/help", "/join", "/meetings"}
	tests := []struct {
		who        string
		user       *telegramtest.User
		want, deny []string
	}{
		{"member", member, everyone, committeeOnly},
		{"not in the cell", stranger, everyone, committeeOnly},
		{"committee", committee, append(everyone, committeeOnly...), []string{"/promote", "/members"}},
		{"secretary", secretary, append(everyone, committeeOnly...), []string{"/promote", "/members"}},
	}
	for _, tt := range tests {
		t.Run(tt.who, func(t *testing.T) {
			e.srv.WaitIdle()
			before := len(e.srv.Messages(g.ID()))
			tt.user.SendIn(g, "/help")
			e.srv.WaitUntil(func() bool { return len(e.srv.Messages(g.ID())) > before })
			msgs := e.srv.Messages(g.ID())
			text := msgs[len(msgs)-1].Text
			if !strings.Contains(text, "/help — Bot giúp được gì") {
				t.Fatalf("%s's /help in the group: got %q", tt.who, text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s's /help in the group has no %q: %q", tt.who, w, text)
				}
			}
			for _, d := range tt.deny {
				if strings.Contains(text, d) {
					t.Errorf("%s's /help in the group offers %q: %q", tt.who, d, text)
				}
			}
		})
	}
}

// TestGroupBecomesSupergroup: Telegram gives a basic group a new id when it
// becomes a supergroup; the cell follows it.
func TestGroupBecomesSupergroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	sec := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.BasicGroup("Chi bộ Khu phố 3")
	g.AddAdmin(sec)
	setupCell(t, e, sec, g)
	old := g.Migrate(sec)
	e.srv.WaitIdle()
	sec.SendIn(g, "/join")
	e.srv.WaitUntil(func() bool { return countContaining(e.srv.Messages(g.ID()), "Mời các đồng chí bấm nút") == 1 })
	ctx := context.Background()
	c, err := e.store.CellByChat(ctx, g.ID())
	if err != nil || c.Name != "Chi bộ Khu phố 3" || c.ChatID != g.ID() {
		t.Fatalf("cell of the supergroup = %+v, %v", c, err)
	}
	if _, err := e.store.CellByChat(ctx, old); err == nil {
		t.Error("the old group id still names the cell")
	}
}
