package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// joinPayload finds the deep link's payload on the join button of a message.
func joinPayload(t *testing.T, m telegramtest.Message) string {
	t.Helper()
	for _, r := range m.Buttons {
		for _, b := range r {
			if _, p, ok := strings.Cut(b.URL, "?start="); ok {
				if !strings.HasPrefix(b.URL, "https://t.me/"+telegramtest.BotUsername+"?start=") {
					t.Fatalf("join link %q does not point at the bot", b.URL)
				}
				return p
			}
		}
	}
	t.Fatalf("no join button in %q", m.Text)
	return ""
}

// setupCell makes a group a cell with secretary as its secretary and returns the
// join payload.
func setupCell(t *testing.T, e *env, secretary *telegramtest.User, g *telegramtest.Group) string {
	t.Helper()
	secretary.Start("")
	secretary.SendIn(g, "/setup Chi bộ Khu phố 3")
	e.srv.WaitMessage(g.ID(), "Đã thiết lập Chi bộ Khu phố 3")
	return joinPayload(t, e.srv.WaitMessage(g.ID(), "Mời các đồng chí bấm nút"))
}

// cellSetup is a cell made through the bot, its roster imported.
type cellSetup struct {
	secretary *telegramtest.User
	group     *telegramtest.Group
	payload   string // of the join link
	cell      cell.Cell
}

// importedCell makes a group a cell through /setup, with "Nguyễn Thị Lan" as its
// secretary, and imports the roster CSV through /import.
func importedCell(t *testing.T, e *env, roster []byte, members int) cellSetup {
	t.Helper()
	sec := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(sec)
	payload := setupCell(t, e, sec, g)
	c, err := e.store.CellByChat(context.Background(), g.ID())
	if err != nil {
		t.Fatalf("group is not a cell after /setup: %v", err)
	}
	sec.SendDocument("roster.csv", roster, "/import")
	sec.WaitMessage(fmt.Sprintf("Đã nhập %d đồng chí", members))
	return cellSetup{secretary: sec, group: g, payload: payload, cell: c}
}

// joinAs walks a user through the deep link, the name and the committee's
// confirmation.
func joinAs(t *testing.T, u, secretary *telegramtest.User, payload, name string) {
	t.Helper()
	u.Start(payload)
	u.WaitMessage("họ và tên")
	u.Send(name)
	u.WaitMessage("Xin chọn đúng tên")
	u.Press("Tôi là " + name)
	u.WaitMessage("chờ chi ủy xác nhận")
	secretary.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: " + name)
	secretary.Press("✅ Xác nhận")
	u.WaitMessage("Chi ủy đã xác nhận")
	secretary.WaitMessage("Đã xác nhận " + name)
}

func rosterByName(t *testing.T, e *env, cellID int64) map[string]cell.Member {
	t.Helper()
	ms, err := e.store.Members(context.Background(), cellID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cell.Member{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

// TestCellLifecycle is the first story the bot was built for: a group becomes a cell, a
// 74-member roster imports, five members join through the deep link, a member's
// committee commands are refused, the bot process restarts and everything is
// still there, and an update delivered twice is handled once.
func TestCellLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useOwnRedis()
	p := e.startProcess()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot output:\n%s", p.output())
		}
	})
	ctx := context.Background()

	secretary := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(secretary)
	payload := setupCell(t, e, secretary, g)
	c, err := e.store.CellByChat(ctx, g.ID())
	if err != nil {
		t.Fatalf("group is not a cell after /setup: %v", err)
	}

	secretary.SendDocument("roster.csv", readFile(t, "roster74.csv"), "/import")
	done := secretary.WaitMessage("Đã nhập 74 đồng chí")
	if !strings.Contains(done.Text, "73 mới, 1 cập nhật") || !strings.Contains(done.Text, "74 đồng chí (51 sinh hoạt thường xuyên, 15 miễn sinh hoạt, 8 tạm miễn, 0 sinh hoạt tạm thời)") {
		t.Errorf("import report = %q", done.Text)
	}
	roster := rosterByName(t, e, c.ID)
	if len(roster) != 74 {
		t.Fatalf("roster has %d members, want 74", len(roster))
	}
	if roster["Nguyễn Thị Lan"].Role != cell.RoleSecretary || roster["Nguyễn Thị Lan"].UserID != secretary.ID() {
		t.Errorf("the secretary's record lost its role or account on import: %+v", roster["Nguyễn Thị Lan"])
	}

	joiners := map[string]*telegramtest.User{}
	for _, name := range []string{"Trần Văn Bình", "Lê Thị Hoa", "Phạm Văn Đức", "Hoàng Minh Tuấn", "Võ Thị Mai"} {
		u := e.srv.User(strings.Fields(name)[2])
		joinAs(t, u, secretary, payload, name)
		joiners[name] = u
	}
	roster = rosterByName(t, e, c.ID)
	for name, u := range joiners {
		if roster[name].UserID != u.ID() {
			t.Errorf("%s is linked to %d, want %d", name, roster[name].UserID, u.ID())
		}
	}
	if len(roster) != 74 {
		t.Errorf("joining changed the roster size to %d", len(roster))
	}

	// A plain member's committee commands are refused and change nothing.
	binh := joiners["Trần Văn Bình"]
	binh.SendDocument("roster.csv", readFile(t, "roster_semicolon.csv"), "/import")
	binh.WaitMessage("chỉ dành cho chi ủy")
	binh.Send("/promote Trần Văn Bình")
	binh.WaitMessage("chỉ dành cho bí thư")
	binh.Send("/exempt Lê Thị Hoa")
	e.srv.WaitUntil(func() bool { return countContaining(binh.Messages(), "chỉ dành cho chi ủy") == 2 })
	after := rosterByName(t, e, c.ID)
	if len(after) != 74 || after["Lê Thị Hoa"].Participation != cell.Regular || after["Trần Văn Bình"].Role != cell.RoleMember {
		t.Errorf("a member's refused commands changed the roster")
	}

	// The secretary promotes one, exempts another; a member switches to English.
	secretary.Send("/promote Hoàng Minh Tuấn")
	secretary.WaitMessage("Hoàng Minh Tuấn đã được cấp quyền chi ủy trên Bot")
	secretary.Send("/exempt Võ Thị Mai ốm dài ngày")
	secretary.WaitMessage("Võ Thị Mai: miễn sinh hoạt (ốm dài ngày)")
	hoa := joiners["Lê Thị Hoa"]
	hoa.Send("/lang en")
	hoa.WaitMessage("Language set to English")

	// Restart the process on the same Redis.
	if err := p.terminate(t); err != nil {
		t.Fatalf("bot exited with %v after SIGTERM, want 0; output:\n%s", err, p.output())
	}
	p = e.startProcess()

	hoa.Send("/help")
	hoa.WaitMessage("/cancel — Stop what is in progress")
	tuan := joiners["Hoàng Minh Tuấn"]
	tuan.Send("/members")
	list := tuan.WaitMessage("74 đồng chí")
	if !strings.Contains(list.Text, "Trang 1/4") {
		t.Errorf("members list = %q", list.Text)
	}
	roster = rosterByName(t, e, c.ID)
	if roster["Võ Thị Mai"].Participation != cell.Exempt || roster["Hoàng Minh Tuấn"].Role != cell.RoleCommittee {
		t.Errorf("changes lost across the restart: %+v %+v", roster["Võ Thị Mai"], roster["Hoàng Minh Tuấn"])
	}

	// An update delivered twice is handled once.
	id := binh.Send("/help")
	e.srv.WaitIdle()
	before := countContaining(binh.Messages(), "/cancel — Hủy việc đang làm dở")
	e.srv.Redeliver(id)
	e.srv.WaitIdle()
	binh.Send("/lang vi") // a later update, so the redelivered one has surely been seen
	binh.WaitMessage("Đã chuyển sang tiếng Việt")
	if got := countContaining(binh.Messages(), "/cancel — Hủy việc đang làm dở"); got != before || before != 1 {
		t.Errorf("help answered %d times (before redelivery %d), want once", got, before)
	}
}

// countContaining counts the messages whose text or caption holds s.
func countContaining(ms []telegramtest.Message, s string) int {
	n := 0
	for _, m := range ms {
		if strings.Contains(m.Text, s) || strings.Contains(m.Caption, s) {
			n++
		}
	}
	return n
}
