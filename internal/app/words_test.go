package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
)

// TestFreeText: text that is no command, in a private chat, is not "an unknown
// command": the member learns it reached nobody and whom to ask.
func TestFreeText(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	member := e.srv.User("Hoa")
	joinAs(t, member, cs.secretary, cs.payload, "Lê Thị Hoa")

	member.Send("Thưa đồng chí bí thư, tối nay tôi bận.")
	m := member.WaitMessage("chưa đến được ai")
	for _, want := range []string{"Bot chỉ đọc các lệnh", "liên hệ trực tiếp với bí thư chi bộ"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("answer to free text = %q, want %q in it", m.Text, want)
		}
	}
	if strings.Contains(m.Text, "chưa hiểu lệnh") {
		t.Errorf("free text answered as an unknown command: %q", m.Text)
	}

	member.Send("/frobnicate")
	member.WaitMessage("Bot chưa hiểu lệnh này")
}

// TestMemberHelp: a member's /help says what the bot does for them and how to
// answer, and lists only the members' commands.
func TestMemberHelp(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	member := e.srv.User("Hoa")
	joinAs(t, member, cs.secretary, cs.payload, "Lê Thị Hoa")

	member.Send("/help")
	m := member.WaitMessage("/help — Bot giúp được gì")
	for _, want := range []string{
		"Bot sẽ gửi thông báo họp và chương trình sinh hoạt đến đồng chí tại đây; đồng chí không cần làm gì thêm.",
		"✅ Tham dự", "❌ Xin vắng",
		"/lang — Đổi ngôn ngữ",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("member's help lacks %q: %q", want, m.Text)
		}
	}
	for _, deny := range []string{"/members", "/import", "/promote", "/broadcast", "dd/mm/yyyy"} {
		if strings.Contains(m.Text, deny) {
			t.Errorf("member's help offers %q: %q", deny, m.Text)
		}
	}

	en := e.srv.UserLang("Mai", "en")
	en.Start("")
	en.Send("/help")
	m = en.WaitMessage("/help — What the bot can do for you")
	if !strings.Contains(m.Text, "press \"Get messages from the bot\"") {
		t.Errorf("a guest's English help = %q", m.Text)
	}
}

// TestRefusedImportIsExplained: an import that cannot be read is refused with
// the reason in Vietnamese: the column names with an example row, the
// Vietnamese values, the line's number, and how to save a file from Excel.
// Nothing is imported.
func TestRefusedImportIsExplained(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec := cs.secretary
	before := rosterByName(t, e, cs.cell.ID)

	sec.SendDocument("danh sách.csv", []byte("Họ và tên,Ngày sinh,Quê quán\nPhạm Văn Đức,1/1/1950,Hà Nội\n"), "/import")
	m := sec.WaitMessage("Không thấy dòng tên cột")
	for _, want := range []string{
		"Họ và tên, Chính thức/Dự bị, Sinh hoạt",
		"name,standing,participation,until,reason",
		"Nguyễn Văn An,chính thức,tạm miễn,31/12/2026,đi làm xa",
		"Chưa nhập ai",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("bad header answer lacks %q: %q", want, m.Text)
		}
	}

	sec.SendDocument("danh sách.csv", []byte("name,standing,participation,until,reason\n"+
		"Phạm Văn Đức,chính thức,thường xuyên,,\n"+
		"Đỗ Thị Lý,chinh thuc,nghỉ,,\n"), "/import")
	m = sec.WaitMessage("Dòng 3 của tệp")
	if !strings.Contains(m.Text, "«nghỉ» không phải diện sinh hoạt; xin ghi «thường xuyên», «miễn», «tạm miễn» hoặc «tạm thời»") {
		t.Errorf("bad line answer = %q", m.Text)
	}

	sec.SendDocument("danh sách.xls", []byte("\xd0\xcf\x11\xe0"), "/import")
	m = sec.WaitMessage("không phải tệp CSV")
	if !strings.Contains(m.Text, "Lưu thành") || !strings.Contains(m.Text, "CSV UTF-8") || !strings.Contains(m.Text, "Sổ làm việc Excel (.xlsx)") {
		t.Errorf("spreadsheet answer = %q", m.Text)
	}

	sec.Send("/import")
	m = sec.WaitMessage("Xin gửi danh sách đảng viên")
	for _, want := range []string{"gửi nguyên tệp Excel (.xlsx)", "chính thức hoặc dự bị", "thường xuyên, miễn, tạm miễn hoặc tạm thời", "CSV UTF-8"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("/import alone lacks %q: %q", want, m.Text)
		}
	}
	if after := rosterByName(t, e, cs.cell.ID); len(after) != len(before) {
		t.Errorf("a refused import changed the roster: %d members, was %d", len(after), len(before))
	}
}

// TestFirstStepsSayWhatComesNext: /setup and the first import end with the next
// step.
func TestFirstStepsSayWhatComesNext(t *testing.T) {
	e := newEnv(t)
	e.start()
	sec := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(sec)
	setupCell(t, e, sec, g)
	if m := e.srv.WaitMessage(g.ID(), "Đã thiết lập"); !strings.Contains(m.Text, "Bước tiếp theo") || !strings.Contains(m.Text, "/import") {
		t.Errorf("/setup's answer = %q", m.Text)
	}
	sec.SendDocument("roster.csv", []byte(smallRoster), "/import")
	m := sec.WaitMessage("Đã nhập 4 đồng chí")
	if !strings.Contains(m.Text, "Bước tiếp theo") || !strings.Contains(m.Text, "/join") {
		t.Errorf("first import's answer = %q", m.Text)
	}
	sec.SendDocument("roster.csv", []byte(smallRoster), "/import")
	e.srv.WaitUntil(func() bool { return countContaining(sec.Messages(), "Đã nhập 4 đồng chí") == 2 })
	if last := sec.LastMessage(); strings.Contains(last.Text, "Bước tiếp theo") {
		t.Errorf("a re-import repeats the first steps: %q", last.Text)
	}
}

// TestMenusFollowRoles: the members' menus are set for private chats and groups;
// a committee member gets the committee's menu in their private chat and in the
// cell's group, and loses it when removed; only the secretary's has /promote.
func TestMenusFollowRoles(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec, g := cs.secretary, cs.group
	an := e.srv.User("An")
	joinAs(t, an, sec, cs.payload, "Nguyễn Văn An")

	names := func(cmds []telegramtest.Command) []string {
		var out []string
		for _, c := range cmds {
			out = append(out, c.Command)
		}
		return out
	}
	check := func(scope, lang string, has, lacks []string) {
		t.Helper()
		got := names(e.srv.CommandsFor(scope, lang))
		for _, n := range has {
			if !slices.Contains(got, n) {
				t.Errorf("%s %q menu lacks /%s: %v", scope, lang, n, got)
			}
		}
		for _, n := range lacks {
			if slices.Contains(got, n) {
				t.Errorf("%s %q menu has /%s: %v", scope, lang, n, got)
			}
		}
	}
	check("default", "", []string{"help", "lang", "cancel"}, []string{"import", "promote", "members", "setup"})
	check("default", "en", []string{"help"}, []string{"import", "promote"})
	check("all_group_chats", "", []string{"help", "join", "setup"}, []string{"import", "members", "agenda"})
	secChat := fmt.Sprintf("chat:%d", sec.ID())
	check(secChat, "", []string{"members", "import", "promote", "demote"}, []string{"setup", "join"})
	check(fmt.Sprintf("chat_member:%d:%d", g.ID(), sec.ID()), "", []string{"agenda", "join"}, []string{"members", "import"})
	if en := e.srv.CommandsFor(secChat, "en"); len(en) == 0 || en[0].Description != "What the bot can do for you" {
		t.Errorf("secretary's English menu = %v", en)
	}

	anChat := fmt.Sprintf("chat:%d", an.ID())
	check(anChat, "", nil, []string{"members"}) // a member has no menu of their own
	sec.Send("/promote Nguyễn Văn An")
	sec.WaitMessage("Nguyễn Văn An đã được cấp quyền chi ủy trên Bot")
	check(anChat, "", []string{"members", "import", "broadcast"}, []string{"promote", "demote"})
	check(fmt.Sprintf("chat_member:%d:%d", g.ID(), an.ID()), "", []string{"agenda"}, []string{"promote"})

	sec.Send("/demote Nguyễn Văn An")
	sec.WaitMessage("Nguyễn Văn An không còn quyền chi ủy trên Bot")
	if got := e.srv.CommandsFor(anChat, ""); len(got) != 0 {
		t.Errorf("a removed committee member keeps the committee's menu: %v", names(got))
	}

	// /lang en: the menus follow, whatever the app's language (Vietnamese here).
	an.Send("/lang en")
	an.WaitMessage("English")
	e.srv.WaitUntil(func() bool { return len(e.srv.CommandsFor(anChat, "")) > 0 })
	check(anChat, "", []string{"help", "rsvp"}, []string{"members"})
	if got := e.srv.CommandsFor(anChat, ""); got[0].Description != "What the bot can do for you" {
		t.Errorf("a member's menu after /lang en = %v", got)
	}
	sec.Send("/lang en")
	sec.WaitMessage("English")
	e.srv.WaitUntil(func() bool {
		got := e.srv.CommandsFor(secChat, "")
		return len(got) > 0 && got[0].Description == "What the bot can do for you"
	})
	check(secChat, "", []string{"members", "promote"}, nil)
}

// TestSecondBotOnOneDataFolder: a second bot started on the data folder of a
// running one is refused with a sentence that says why and what to do, instead
// of starting a second redis-server on the same files; the first keeps working.
func TestSecondBotOnOneDataFolder(t *testing.T) {
	e := newEnv(t)
	delete(e.vars, "REDIS_URL")
	e.vars["CELLBOT_DATA_DIR"] = t.TempDir()
	first := e.startProcess()
	u := e.srv.User("Lan")
	u.Start("")
	u.WaitMessage("Xin chào")

	e.vars["CELLBOT_HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	second := e.startProcess()
	var err error
	select {
	case err = <-second.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the second bot did not stop; output:\n%s", second.output())
	}
	out := second.output()
	if err == nil || !strings.Contains(out, "cellbot cannot start") || !strings.Contains(out, "in use by another cellbot") ||
		!strings.Contains(out, "CELLBOT_DATA_DIR") {
		t.Errorf("second bot: exit %v, output:\n%s", err, out)
	}
	second.done <- err // for the cleanup

	u.Send("/help")
	u.WaitMessage("/help — Bot giúp được gì")
	if err := first.terminate(t); err != nil {
		t.Errorf("first bot exited with %v; output:\n%s", err, first.output())
	}
}

// TestCardAwayAsksUntilWhen: "Tạm miễn" on a member's card keeps the reason and
// asks for the end date; a standing change is confirmed first, and "Thôi"
// leaves it as it was.
func TestCardAwayAsksUntilWhen(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec := cs.secretary
	sec.Send("/exempt Lê Thị Hoa ốm dài ngày")
	sec.WaitMessage("Lê Thị Hoa: miễn sinh hoạt (ốm dài ngày)")

	sec.Send("/members")
	list := sec.WaitMessage("Trang 1/1")
	label := ""
	for _, row := range list.Buttons {
		if buttonName(row[0].Text) == "Lê Thị Hoa" {
			label = row[0].Text
		}
	}
	if !strings.Contains(label, "📵") || !strings.Contains(label, "miễn") {
		t.Fatalf("Hoa's button = %q in %v", label, list.Buttons)
	}
	sec.Press(label)
	sec.WaitMessage("Lý do: ốm dài ngày")
	sec.Press("Đổi chính thức/dự bị")
	sec.WaitMessage("sang đảng viên dự bị?")
	sec.Press("✖️ Thôi")
	sec.WaitMessage("Đảng viên chính thức · miễn sinh hoạt")

	sec.Press("Tạm miễn")
	sec.WaitMessage("tạm miễn sinh hoạt đến ngày nào?")
	sec.Send("31/13/2026")
	sec.WaitMessage("Ngày «31/13/2026» không đúng")
	sec.Send("31/12/2026")
	sec.WaitMessage("Lê Thị Hoa: tạm miễn sinh hoạt đến 31/12/2026 (ốm dài ngày)")
}
