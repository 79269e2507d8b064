package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/storage"
)

// TestTelegramInEnglishGetsNoticesInEnglish: members whose Telegram is in
// English, who never sent /lang, get the notice and its buttons in English:
// one who opened the bot with /start before joining, and one linked earlier
// who has written to the bot since. A member whose Telegram is in Vietnamese
// gets them in Vietnamese, and /lang vi beats an English Telegram.
func TestTelegramInEnglishGetsNoticesInEnglish(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	ctx := context.Background()
	sec := mc.secretary

	link := func(u *telegramtest.User, name string) {
		t.Helper()
		if res, err := e.store.ImportMembers(ctx, mc.cell.ID, []cell.Member{{Name: name, Standing: cell.Official, Participation: cell.Regular}}); err != nil || res.Added != 1 {
			t.Fatalf("add %s: %+v %v", name, res, err)
		}
		ms, err := e.store.Members(ctx, mc.cell.ID)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		for _, m := range ms {
			if m.Name == name {
				id = m.ID
			}
		}
		if err := e.store.AddJoinRequest(ctx, mc.cell.ID, storage.JoinRequest{UserID: u.ID(), Name: name, MemberID: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ConfirmJoin(ctx, mc.cell.ID, u.ID()); err != nil {
			t.Fatal(err)
		}
	}
	opener := e.srv.UserLang("Mary", "en-GB")
	opener.Send("/start")
	opener.WaitMessage("")
	link(opener, "Lê Thị Mai")

	writer := e.srv.UserLang("John", "en")
	writer.Opened()
	link(writer, "Trần Văn Giang")
	writer.Send("/help")
	writer.WaitMessage("/lang")

	chooser := e.srv.UserLang("Anne", "en")
	chooser.Opened()
	link(chooser, "Phạm Thị Hà")
	chooser.Send("/lang vi")
	chooser.WaitMessage("")

	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi sinh hoạt")
	for _, tc := range []struct {
		who          string
		u            *telegramtest.User
		text, button string
	}{
		{"English, opened with /start", opener, "Meeting notice", "✅ Attending"},
		{"English, wrote since joining", writer, "Meeting notice", "✅ Attending"},
		{"English Telegram, chose Vietnamese", chooser, "Thông báo sinh hoạt chi bộ", "✅ Tham dự"},
		{"Vietnamese", mc.members[mc.regular[0]], "Thông báo sinh hoạt chi bộ", "✅ Tham dự"},
	} {
		m := tc.u.WaitMessage(tc.text)
		if len(m.Buttons) == 0 || m.Buttons[0][0].Text != tc.button {
			t.Errorf("%s: notice buttons %+v, want %q first", tc.who, m.Buttons, tc.button)
		}
	}
}
