package app_test

import (
	"context"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// The texts these tests look for.
const (
	nameLinked   = "đã gắn với tài khoản Telegram của một đồng chí khác"
	requestSent  = "Đã gửi yêu cầu liên kết tài khoản Telegram"
	stillPending = "yêu cầu đang chờ chi ủy xác nhận"
)

// answerTo sends text in the user's private chat and returns the bot's next
// new message there.
func answerTo(t *testing.T, e *env, u *telegramtest.User, text string) telegramtest.Message {
	t.Helper()
	n := len(u.Messages())
	u.Send(text)
	e.srv.WaitUntil(func() bool { return len(u.Messages()) > n })
	return u.Messages()[n]
}

// refusedPress presses made-up data as u, who has no request pending in the
// cell, and checks that it records none: the press is answered "this button
// is out of date", or with nothing when the bot answered it before its handler
// was done (as it does for a slow press, under load).
func refusedPress(t *testing.T, e *env, u *telegramtest.User, cellID int64, data string) {
	t.Helper()
	id := u.PressData(data)
	e.srv.WaitUntil(func() bool { _, ok := e.srv.AnswerDelay(id); return ok })
	e.srv.WaitIdle()
	// The test server names a query by its user's id and six digits.
	uid := strconv.FormatInt(u.ID(), 10)
	answers := e.srv.Requests("answerCallbackQuery")
	for i := len(answers) - 1; i >= 0; i-- {
		if q := answers[i].Params["callback_query_id"]; len(q) == len(uid)+6 && strings.HasPrefix(q, uid) {
			if text := answers[i].Params["text"]; text != "" && !strings.Contains(text, "Nút này đã cũ") {
				t.Errorf("made-up %s answered %q", data, text)
			}
			break
		}
	}
	if req, err := e.store.JoinRequestOf(context.Background(), cellID, u.ID()); err == nil {
		t.Errorf("made-up %s recorded a request: %+v", data, req)
	}
}

// markOf is the fingerprint a "send the request with the name X" button
// carries, as a made-up button would compute it.
func markOf(name string) string {
	h := fnv.New32a()
	h.Write([]byte(cell.Key(name)))
	return b36(int64(h.Sum32()))
}

// drained waits until every message the bot queued for u before now has gone:
// a reply to u's /help queues behind them.
func drained(t *testing.T, e *env, u *telegramtest.User) {
	t.Helper()
	e.srv.WaitIdle()
	n := countContaining(u.Messages(), "Các lệnh của chi ủy")
	u.Send("/help")
	e.srv.WaitUntil(func() bool { return countContaining(u.Messages(), "Các lệnh của chi ủy") > n })
}

// TestJoinCannotTakeOverAnEntry plays a stranger who holds the join link. Typing
// a linked member's exact name (in any case or Unicode form) is refused;
// made-up buttons claim nothing; the same name typed without accents can only
// ask as a new name, which the committee sees next to the member's, and
// confirming it leaves the member linked to their own account. Claiming an
// unlinked entry the secretary had promoted is a claim of that entry, said so
// in the notice, and confirming it gives the stranger a member's place without
// the committee's rights.
func TestJoinCannotTakeOverAnEntry(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec, c := cs.secretary, b36(cs.cell.ID)
	member := e.srv.User("Hoa")
	joinAs(t, member, sec, cs.payload, "Lê Thị Hoa")
	hoa := rosterByName(t, e, cs.cell.ID)["Lê Thị Hoa"]
	sec.Send("/promote Nguyễn Văn An") // before anyone linked it
	sec.WaitMessage("chưa liên kết Telegram")

	// A member's name, in any case or Unicode form.
	stranger := e.srv.User("Lạ")
	stranger.Start(cs.payload)
	stranger.WaitMessage("họ và tên")
	for _, name := range []string{"Lê Thị Hoa", "LÊ THỊ  HOA", "Le\u0302 Thi\u0323 Hoa"} {
		got := answerTo(t, e, stranger, name)
		if !strings.Contains(got.Text, nameLinked) || !strings.Contains(got.Text, "liên hệ chi ủy") || len(got.Buttons) != 0 {
			t.Errorf("%q answered %q with %q; want a refusal naming the committee", name, got.Text, buttonLabels(got))
		}
	}
	// Her name without accents: only a request as a new name.
	got := answerTo(t, e, stranger, "Le Thi Hoa")
	if labels := buttonLabels(got); !slices.Equal(labels, []string{"➕ Gửi yêu cầu với tên «Le Thi Hoa»"}) {
		t.Errorf("accentless name offers %q", labels)
	}
	// Made-up buttons: her entry, her name as a new one.
	for _, data := range []string{
		"1:jp:" + c + ":" + b36(hoa.ID),
		"1:jn:" + c + ":" + markOf("Lê Thị Hoa"),
	} {
		refusedPress(t, e, stranger, cs.cell.ID, data)
	}
	stranger.PressOn(got, "➕ Gửi yêu cầu với tên «Le Thi Hoa»")
	stranger.WaitMessage(requestSent)
	notice := sec.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Le Thi Hoa")
	for _, want := range []string{"Tên mới, chưa có trong danh sách", "Tên gần giống trong danh sách: Lê Thị Hoa"} {
		if !strings.Contains(notice.Text, want) {
			t.Errorf("the notice %q does not say %q", notice.Text, want)
		}
	}
	confirmNewcomer(e, sec, notice)
	stranger.WaitMessage("Chi ủy đã xác nhận")

	// An unlinked entry with the committee's rights.
	claimer := e.srv.User("Giả")
	claimer.Start(cs.payload)
	claimer.WaitMessage("họ và tên")
	got = answerTo(t, e, claimer, "Nguyễn Văn An")
	if labels := buttonLabels(got); !slices.Equal(labels, []string{"Tôi là Nguyễn Văn An"}) {
		t.Errorf("the entry's exact name offers %q; want that entry alone, no new name", labels)
	}
	refusedPress(t, e, claimer, cs.cell.ID, "1:jn:"+c+":"+markOf("Nguyễn Văn An"))
	claimer.PressOn(got, "Tôi là Nguyễn Văn An")
	claimer.WaitMessage(requestSent)
	notice = sec.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Nguyễn Văn An")
	for _, want := range []string{"nhận là <b>Nguyễn Văn An</b> trong danh sách", "đang có quyền chi ủy", "/promote"} {
		if !strings.Contains(notice.RawText, want) {
			t.Errorf("the notice %q does not say %q", notice.RawText, want)
		}
	}
	sec.PressOn(notice, "✅ Xác nhận")
	claimer.WaitMessage("Chi ủy đã xác nhận")
	sec.WaitMessage("không chuyển sang tài khoản vừa xác nhận")

	r := rosterByName(t, e, cs.cell.ID)
	if m := r["Lê Thị Hoa"]; m.UserID != member.ID() {
		t.Errorf("Lê Thị Hoa is linked to %d, want the member's own account %d", m.UserID, member.ID())
	}
	if m := r["Le Thi Hoa"]; m.UserID != stranger.ID() || m.Role != cell.RoleMember || m.ID == hoa.ID {
		t.Errorf("the stranger's record = %+v; want a new plain member", m)
	}
	if m := r["Nguyễn Văn An"]; m.UserID != claimer.ID() || m.Role != cell.RoleMember {
		t.Errorf("the claimed entry = %+v; want linked to the claimer as a plain member", m)
	}
	for _, u := range []*telegramtest.User{stranger, claimer} {
		u.Send("/broadcast Xin chuyển đảng phí vào tài khoản mới này")
		u.WaitMessage("chỉ dành cho chi ủy")
	}
	e.srv.WaitIdle()
	for _, u := range []*telegramtest.User{sec, member} {
		if n := countContaining(u.Messages(), "đảng phí"); n != 0 {
			t.Errorf("%d got the strangers' broadcast", u.ID())
		}
	}
}

// TestRepeatedJoinRequestsNotifyOnce: a user has one pending request per cell.
// Pressing its button ten times and opening the link ten times more show the
// pending request and tell the committee nothing new; withdrawing and asking
// again reaches the committee a limited number of times.
func TestRepeatedJoinRequestsNotifyOnce(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec := cs.secretary
	const name = "Phạm Văn Mười"
	notices := func() int {
		return countContaining(sec.Messages(), "Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: "+name)
	}

	u := e.srv.User("Mười")
	u.Start(cs.payload)
	u.WaitMessage("họ và tên")
	ask := answerTo(t, e, u, name)
	var data string
	for _, r := range ask.Buttons {
		for _, b := range r {
			if b.Text == "➕ Gửi yêu cầu với tên «"+name+"»" {
				data = b.CallbackData
			}
		}
	}
	if data == "" {
		t.Fatalf("no button to send the request: %q", buttonLabels(ask))
	}
	for range 10 {
		u.PressData(data)
	}
	u.WaitMessage(requestSent)
	// What a user does over minutes, the test does in seconds: each phase
	// starts a new window of the per-user update limit (20 in 10 s).
	newWindow(t, e, u.ID())
	for i := range 10 {
		n := countContaining(u.Messages(), stillPending)
		u.Start(cs.payload)
		e.srv.WaitUntil(func() bool { return countContaining(u.Messages(), stillPending) > n })
		if i == 0 {
			if m := u.LastMessage(); !strings.Contains(m.Text, name) || !hasLabel(m, "↩️ Rút yêu cầu") {
				t.Errorf("the pending request is shown as %q with %q", m.Text, buttonLabels(m))
			}
		}
	}
	drained(t, e, sec)
	if n := notices(); n != 1 {
		t.Errorf("the committee got %d notices of one request, want 1", n)
	}
	reqs, err := e.store.JoinRequests(context.Background(), cs.cell.ID)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending requests = %+v, %v; want one", reqs, err)
	}

	// Withdrawn and made again, three times: the committee hears of the
	// first two corrections, then the requests only wait in /members.
	newWindow(t, e, u.ID())
	for range 3 {
		n := countContaining(u.Messages(), requestSent)
		u.Press("↩️ Rút yêu cầu")
		u.WaitMessage("Đã rút yêu cầu")
		again := answerTo(t, e, u, name)
		u.PressOn(again, "➕ Gửi yêu cầu với tên «"+name+"»")
		e.srv.WaitUntil(func() bool { return countContaining(u.Messages(), requestSent) > n })
		u.Start(cs.payload)
		e.srv.WaitUntil(func() bool { return hasLabel(u.LastMessage(), "↩️ Rút yêu cầu") })
	}
	drained(t, e, sec)
	if n := notices(); n != 3 {
		t.Errorf("the committee got %d notices of a user's four requests, want 3", n)
	}
	if reqs, err := e.store.JoinRequests(context.Background(), cs.cell.ID); err != nil || len(reqs) != 1 {
		t.Errorf("pending requests = %+v, %v; want one", reqs, err)
	}
}

// TestJoinSearchOffersOnlyTheName: namesakes that differ only in their accents,
// typed precomposed or decomposed, are told apart; a name linked to an account
// is refused; and a stranger's search lists nobody whose name is not the one
// typed (a given name or a family name in common is not enough).
func TestJoinSearchOffersOnlyTheName(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, readFile(t, "roster74_namesakes.csv"), 74)
	member := e.srv.User("An")
	joinAs(t, member, cs.secretary, cs.payload, "Nguyễn Văn An")

	stranger := e.srv.User("Lạ")
	stranger.Start(cs.payload)
	stranger.WaitMessage("họ và tên")
	newName := func(s string) string { return "➕ Gửi yêu cầu với tên «" + s + "»" }
	tests := []struct {
		name, typed string
		refused     bool
		want        []string // the buttons offered
	}{
		{"a linked namesake, decomposed", "Nguye\u0302\u0303n Va\u0306n An", true, nil},
		{"a linked namesake, upper case", "NGUYỄN VĂN AN", true, nil},
		{"the other namesake, decomposed", "Nguye\u0302\u0303n Va\u0306n A\u0302n", false, []string{"Tôi là Nguyễn Văn Ân"}},
		{"without accents", "nguyen van an", false, []string{"Tôi là Nguyễn Văn Ân", newName("nguyen van an")}},
		{"Tư, decomposed", "Le\u0302 Va\u0306n Tu\u031b", false, []string{"Tôi là Lê Văn Tư"}},
		{"Từ", "Lê Văn Từ", false, []string{"Tôi là Lê Văn Từ"}},
		{"Tư or Từ without accents", "Le Van Tu", false, []string{"Tôi là Lê Văn Tư", "Tôi là Lê Văn Từ", newName("Le Van Tu")}},
		{"given name first", "Tư Lê Văn", false, []string{"Tôi là Lê Văn Tư", "Tôi là Lê Văn Từ", newName("Tư Lê Văn")}},
		{"a slip in the family name", "Ngyuen Van An", false, []string{"Tôi là Nguyễn Văn Ân", newName("Ngyuen Van An")}},
		{"middle and given name", "Văn An", false, []string{newName("Văn An")}},
		{"another family name", "Phạm Văn An", false, []string{newName("Phạm Văn An")}},
		{"a given name shared", "Ngọc An", false, []string{newName("Ngọc An")}},
		{"two words of a name", "Minh Lan", false, []string{newName("Minh Lan")}},
		{"a family name", "Nguyễn Ngọc", false, []string{newName("Nguyễn Ngọc")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := answerTo(t, e, stranger, tt.typed)
			if tt.refused {
				if !strings.Contains(got.Text, nameLinked) || len(got.Buttons) != 0 {
					t.Errorf("%q answered %q with %q; want refused", tt.typed, got.Text, buttonLabels(got))
				}
				return
			}
			if labels := buttonLabels(got); !slices.Equal(labels, tt.want) {
				t.Errorf("%q offers %q, want %q", tt.typed, labels, tt.want)
			}
		})
	}

	// The stranger claims the other namesake, typed decomposed: the committee
	// sees which, and the member keeps theirs.
	got := answerTo(t, e, stranger, "Nguye\u0302\u0303n Va\u0306n A\u0302n")
	stranger.PressOn(got, "Tôi là Nguyễn Văn Ân")
	stranger.WaitMessage(requestSent)
	notice := cs.secretary.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: Nguyễn Văn Ân")
	if !strings.Contains(notice.Text, "nhận là Nguyễn Văn Ân trong danh sách") {
		t.Errorf("notice = %q", notice.Text)
	}
	cs.secretary.PressOn(notice, "✅ Xác nhận")
	stranger.WaitMessage("Chi ủy đã xác nhận")
	r := rosterByName(t, e, cs.cell.ID)
	if r["Nguyễn Văn An"].UserID != member.ID() || r["Nguyễn Văn Ân"].UserID != stranger.ID() || len(r) != 74 {
		t.Errorf("after the join: An %+v, Ân %+v, %d records", r["Nguyễn Văn An"], r["Nguyễn Văn Ân"], len(r))
	}
}

// newWindow forgets a user's recent updates, as the per-user update limit
// counts them, so that a scripted user may go on at a test's pace.
func newWindow(t *testing.T, e *env, userID int64) {
	t.Helper()
	k := e.store.Keys()
	if err := e.rdb.Del(context.Background(), k.UserUpdates(userID), k.UserIgnored(userID)).Err(); err != nil {
		t.Fatal(err)
	}
}
