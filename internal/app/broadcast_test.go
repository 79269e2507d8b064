package app_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/storage"
	"github.com/rivo/uniseg"
	"slices"
	"unicode/utf8"
)

// seeded is a cell whose members have all linked their Telegram accounts.
type seeded struct {
	cell      cell.Cell
	secretary *telegramtest.User
	group     *telegramtest.Group
	members   map[string]*telegramtest.User // by roster name, the secretary too
}

// seedCell sets a cell up through the bot (/setup, /import of the roster), then
// links a Telegram user to every roster entry directly in storage, as the join
// flow would, so that large cells need no thousands of updates. opened says
// whether a member has opened the bot (nil: all have).
func seedCell(t *testing.T, e *env, roster []string, opened func(name string) bool) seeded {
	t.Helper()
	ctx := context.Background()
	sec := e.srv.User(roster[0])
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(sec)
	setupCell(t, e, sec, g)
	c, err := e.store.CellByChat(ctx, g.ID())
	if err != nil {
		t.Fatal(err)
	}
	// Tests must not depend on the hour they run at.
	if err := e.store.SetCellQuiet(ctx, c.ID, cell.QuietHours{}); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("name,standing,participation,until,reason\n")
	for _, n := range roster {
		fmt.Fprintf(&csv, "%s,official,regular,,\n", n)
	}
	sec.SendDocument("roster.csv", []byte(csv.String()), "/import")
	sec.WaitMessage(fmt.Sprintf("Đã nhập %d đồng chí", len(roster)))
	ms, err := e.store.Members(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := seeded{cell: c, secretary: sec, group: g, members: map[string]*telegramtest.User{roster[0]: sec}}
	for _, m := range ms {
		if m.UserID != 0 {
			continue
		}
		u := e.srv.User(m.Name)
		if opened == nil || opened(m.Name) {
			u.Opened()
		}
		if err := e.store.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: u.ID(), Name: m.Name, MemberID: m.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ConfirmJoin(ctx, c.ID, u.ID()); err != nil {
			t.Fatal(err)
		}
		s.members[m.Name] = u
	}
	return s
}

func names(n int) []string {
	out := []string{"Nguyễn Thị Lan"}
	for i := 1; len(out) < n; i++ {
		out = append(out, fmt.Sprintf("Đảng Viên Số %03d", i))
	}
	return out
}

func rosterNames(t *testing.T) []string {
	t.Helper()
	var out []string
	for i, line := range strings.Split(strings.TrimPrefix(string(readFile(t, "roster74.csv")), "\ufeff"), "\n") {
		if name, _, ok := strings.Cut(line, ","); ok && i > 0 {
			out = append(out, name)
		}
	}
	return out
}

// TestBroadcastReachesEveryMemberOnce: the 74-member cell, two members the bot
// cannot reach (one blocked it, one never opened it), the test server's limits on.
func TestBroadcastReachesEveryMemberOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.start()
	roster := rosterNames(t)
	if len(roster) != 74 {
		t.Fatalf("roster74.csv has %d names", len(roster))
	}
	blocked, neverOpened := roster[10], roster[60]
	s := seedCell(t, e, roster, func(n string) bool { return n != neverOpened })
	s.members[blocked].Block()

	english := s.members[roster[20]]
	english.Send("/lang en")
	english.WaitMessage("Language set to English")

	const text = "Họp chi bộ chiều Thứ Năm 03/04 lúc 14:00 tại nhà văn hóa. Mang theo <sổ ghi chép> & bút."
	s.secretary.Send("/broadcast " + text)
	report := s.secretary.WaitMessage("Chưa nhắn được 2 đồng chí")
	if !strings.Contains(report.Text, "71/73") || !strings.Contains(report.Text, blocked) || !strings.Contains(report.Text, neverOpened) {
		t.Errorf("report = %q, want 71/73 (all but the sender) and both unreachable names", report.Text)
	}
	for name, u := range s.members {
		got := countContaining(u.Messages(), text)
		want := 1
		if name == blocked || name == neverOpened || u == s.secretary {
			want = 0
		}
		if got != want {
			t.Errorf("%s got the broadcast %d times, want %d", name, got, want)
		}
	}
	// The bot's own words in each member's language; the secretary's as typed.
	if n := countContaining(english.Messages(), "📢 Announcement from"); n != 1 {
		t.Errorf("the member who chose English got %d English headers", n)
	}
	if n := countContaining(s.members[roster[21]].Messages(), "📢 Thông báo của"); n != 1 {
		t.Errorf("a member got %d Vietnamese headers", n)
	}
	if n := e.srv.Stats().TooManyRequests; n != 0 {
		t.Errorf("the server answered 429 %d times", n)
	}
	// The progress message ends as the final count; the committee hears once of
	// each member it cannot reach.
	e.srv.WaitUntil(func() bool {
		for _, m := range s.secretary.Messages() {
			if m.Edits > 0 && strings.HasPrefix(m.Text, "✅ Đã gửi xong: 71/73") {
				return true
			}
		}
		return false
	})
	for _, name := range []string{blocked, neverOpened} {
		s.secretary.WaitMessage("Bot không nhắn được cho đồng chí " + name)
	}
	// A second broadcast reports them again, but the committee is not told twice.
	s.secretary.Send("/broadcast Nhắc lại: họp lúc 14:00.")
	e.srv.WaitUntil(func() bool {
		return countContaining(s.members[roster[1]].Messages(), "Nhắc lại: họp lúc 14:00") == 1
	})
	e.srv.WaitUntil(func() bool { return countContaining(s.secretary.Messages(), "Đã gửi xong") == 2 })
	for _, name := range []string{blocked, neverOpened} {
		if n := countContaining(s.secretary.Messages(), "Bot không nhắn được cho đồng chí "+name); n != 1 {
			t.Errorf("after a second broadcast the committee was told %d times about %s", n, name)
		}
	}
}

// TestAgendaSplitsLongText: a 6,000-character agenda arrives as two messages, in
// order, each under Telegram's limit.
func TestAgendaSplitsLongText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.start()
	s := seedCell(t, e, names(4), nil)
	var lines []string
	for i := 1; len(strings.Join(lines, "\n")) < 6000; i++ {
		lines = append(lines, fmt.Sprintf("%d. Mục thảo luận số %d: báo cáo kết quả & nhiệm vụ <quý II> của chi bộ", i, i))
	}
	agenda := strings.Join(lines, "\n")
	s.secretary.Send("/meeting 03/04/2099 14:00")
	s.secretary.WaitMessage("Đã tạo buổi")
	s.secretary.Send("/agenda\n" + agenda)
	s.secretary.WaitMessage("Đã gửi xong: 3/3") // every member but the sender
	for name, u := range s.members {
		if u == s.secretary {
			continue
		}
		var parts []string
		for _, m := range u.Messages() {
			if strings.Contains(m.Text, "Mục thảo luận") {
				parts = append(parts, m.Text)
			}
		}
		if len(parts) != 2 {
			t.Fatalf("%s got %d agenda messages, want 2", name, len(parts))
		}
		head, first, _ := strings.Cut(parts[0], "\n\n")
		if !strings.Contains(head, "Chương trình sinh hoạt") {
			t.Errorf("%s: first part starts %q", name, head)
		}
		if got := first + "\n" + parts[1]; got != agenda {
			t.Errorf("%s: the parts do not join back into the agenda", name)
		}
	}
}

// TestBroadcastUnderFlood: the server answers 429 to one send in ten; every
// member still gets the message exactly once.
func TestBroadcastUnderFlood(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
	e.start()
	s := seedCell(t, e, names(30), nil)
	e.srv.SetFlood(10)
	s.secretary.Send("/broadcast Thông báo khẩn: họp lúc 19:30.")
	s.secretary.WaitMessage("Đã gửi xong: 29/29")
	for name, u := range s.members {
		if u == s.secretary {
			continue
		}
		if n := countContaining(u.Messages(), "Thông báo khẩn"); n != 1 {
			t.Errorf("%s got it %d times, want once", name, n)
		}
	}
	if e.srv.Stats().TooManyRequests == 0 {
		t.Error("the flood never happened")
	}
}

// TestBroadcastDocument: a document with /broadcast as its caption, and one
// replied to with /broadcast, reach every member by file_id.
func TestBroadcastDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.start()
	s := seedCell(t, e, names(3), nil)
	s.secretary.SendDocument("nghi-quyet.pdf", []byte("%PDF-1.4 nghị quyết"), "/broadcast Dự thảo nghị quyết quý II")
	s.secretary.WaitMessage("Đã gửi xong: 2/2")
	s.secretary.SendDocument("bao-cao.pdf", []byte("%PDF-1.4 báo cáo"), "")
	s.secretary.WaitMessage("trả lời tệp bằng /broadcast")
	s.secretary.Reply(s.secretary.LastSent(), "/broadcast Báo cáo quý I")
	// One message per broadcast: its progress message became its report.
	e.srv.WaitUntil(func() bool { return countContaining(s.secretary.Messages(), "Đã gửi xong: 2/2") == 2 })
	for name, u := range s.members {
		if u == s.secretary {
			continue
		}
		var first, second int
		for _, m := range u.Messages() {
			switch {
			case m.DocumentFileID == "":
			case strings.Contains(m.Caption, "Dự thảo nghị quyết quý II"):
				first++
			case strings.Contains(m.Caption, "Báo cáo quý I"):
				second++
			}
		}
		if first != 1 || second != 1 {
			t.Errorf("%s got the documents %d and %d times, want once each", name, first, second)
		}
	}
}

// TestBroadcastSurvivesSIGKILL kills the bot process in the middle of a
// 500-recipient broadcast and starts it again: everyone gets the message, at
// most once more than the messages in flight at the kill.
func TestBroadcastSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("sends 500 messages at Telegram's pace")
	}
	e := newEnv(t, telegramtest.WithWaitTimeout(120*time.Second))
	e.useOwnRedis()
	p := e.startProcess()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot output:\n%s", p.output())
		}
	})
	s := seedCell(t, e, names(500), nil)
	s.secretary.Send("/broadcast Kính mời các đồng chí dự họp chi bộ.")
	delivered := func() (reached, total int) {
		for _, u := range s.members {
			if u == s.secretary {
				continue // every member but the sender
			}
			n := countContaining(u.Messages(), "Kính mời các đồng chí")
			if n > 0 {
				reached++
			}
			total += n
		}
		return reached, total
	}
	e.srv.WaitUntil(func() bool { r, _ := delivered(); return r >= 150 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil
	r, _ := delivered()
	t.Logf("killed with %d of 500 delivered", r)
	p = e.startProcess()
	e.srv.WaitUntil(func() bool { r, _ := delivered(); return r == 499 })
	s.secretary.WaitMessage("Đã gửi xong")
	const inFlight = 8 // the sender's workers
	for name, u := range s.members {
		if u == s.secretary {
			continue
		}
		if n := countContaining(u.Messages(), "Kính mời các đồng chí"); n < 1 || n > 2 {
			t.Errorf("%s got it %d times", name, n)
		}
	}
	if _, total := delivered(); total > 499+inFlight {
		t.Errorf("%d messages for 499 members: more than %d repeated", total, inFlight)
	}
}

// TestBroadcastReportNamesMembersWithoutTelegram: the
// 74-member cell where only some have Telegram: the broadcast goes to every
// member with Telegram but the sender, and the one progress message becomes
// the report: delivered / members with Telegram, and the names of the members
// without Telegram to tell in person. No "⏳" message is left.
func TestBroadcastReportNamesMembersWithoutTelegram(t *testing.T) {
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.start()
	cs := importedCell(t, e, readFile(t, "roster74.csv"), 74)
	ctx := context.Background()
	if err := e.store.SetCellQuiet(ctx, cs.cell.ID, cell.QuietHours{}); err != nil {
		t.Fatal(err)
	}
	roster := rosterNames(t)
	online := map[string]*telegramtest.User{}
	ms, err := e.store.Members(ctx, cs.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.UserID != 0 || len(online) == 10 {
			continue
		}
		u := e.srv.User(m.Name)
		u.Opened()
		if err := e.store.AddJoinRequest(ctx, cs.cell.ID, storage.JoinRequest{UserID: u.ID(), Name: m.Name, MemberID: m.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ConfirmJoin(ctx, cs.cell.ID, u.ID()); err != nil {
			t.Fatal(err)
		}
		online[m.Name] = u
	}
	cs.secretary.Send("/broadcast Họp chi bộ chiều Thứ Năm 03/04 lúc 14:00.")
	report := cs.secretary.WaitMessage("Đã gửi xong: 10/10")
	if !strings.Contains(report.Text, "63 đồng chí chưa có Telegram, xin báo trực tiếp") {
		t.Errorf("report = %q", report.Text)
	}
	for _, name := range roster {
		_, on := online[name]
		if name == "Nguyễn Thị Lan" {
			continue
		}
		if named := strings.Contains(report.Text, name); named == on {
			t.Errorf("%s (Telegram %v) named in the report: %v", name, on, named)
		}
	}
	e.srv.WaitIdle()
	var progress int
	for _, m := range cs.secretary.Messages() {
		if strings.Contains(m.Text, "Đã gửi xong") || strings.Contains(m.Text, "⏳") {
			progress++
		}
		if strings.Contains(m.Text, "⏳") {
			t.Errorf("a progress message was left: %q", m.Text)
		}
	}
	if progress != 1 {
		t.Errorf("%d progress or report messages, want one", progress)
	}
	if n := countContaining(cs.secretary.Messages(), "Họp chi bộ chiều Thứ Năm"); n != 0 {
		t.Errorf("the sender got their own broadcast %d times", n)
	}
	for name, u := range online {
		if n := countContaining(u.Messages(), "Họp chi bộ chiều Thứ Năm"); n != 1 {
			t.Errorf("%s got it %d times", name, n)
		}
	}
}

// TestBroadcastSplitKeepsGraphemes: a long broadcast
// without spaces, of letters typed with their marks apart and emoji with
// joiners, arrives in parts that each keep every grapheme whole and join back
// into the text.
func TestBroadcastSplitKeepsGraphemes(t *testing.T) {
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.start()
	s := seedCell(t, e, names(3), nil)
	// The bot keeps user text in NFC: ệ̀ stays a letter and two marks.
	clusters := []string{"e\u0302\u0300\u0323", "👨\u200d👩\u200d👧\u200d👦", "🇻🇳", "Đ", "u\u031b\u0303", "👍🏽"}
	for i, c := range clusters {
		clusters[i] = cell.NFC(c)
	}
	var b strings.Builder
	for i := 0; utf8.RuneCountInString(b.String()) < 7000; i++ {
		b.WriteString(clusters[i%len(clusters)])
	}
	text := b.String()
	s.secretary.Send("/broadcast " + text)
	s.secretary.WaitMessage("Đã gửi xong: 2/2")
	for name, u := range s.members {
		if u == s.secretary {
			continue
		}
		var parts []string
		for _, m := range u.Messages() {
			if strings.Contains(m.Text, "👍🏽") {
				parts = append(parts, m.Text)
			}
		}
		if len(parts) < 2 {
			t.Fatalf("%s got %d parts", name, len(parts))
		}
		_, parts[0], _ = strings.Cut(parts[0], "\n\n") // the header
		joined := strings.Join(parts, "")
		if joined != text {
			t.Errorf("%s: the parts do not join back into the text", name)
		}
		for i, p := range parts {
			g := uniseg.NewGraphemes(p)
			g.Next()
			if first := g.Str(); !slices.Contains(clusters, first) {
				t.Errorf("%s: part %d starts inside a grapheme: %q", name, i, first)
			}
		}
	}
}
