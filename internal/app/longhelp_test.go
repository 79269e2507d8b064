package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/texts"
)

// TestLongHelpIsTaken: the secretary of two cells, whose Telegram is in
// English, asks /help: the committee's help in English is close to Telegram's
// 4,096 characters (4,082 with their id), and whatever it grows to, every
// message of it is one Telegram takes (texts.SplitHTML cuts it between
// sections), the last with their id.
func TestLongHelpIsTaken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	sec := e.srv.UserLang("Nguyễn Thị Lan", "en")
	sec.Start("")
	for _, name := range []string{"Chi bộ Khu phố 3 phường Bến Thành", "Chi bộ Khu phố 5 phường Bến Thành"} {
		g := e.srv.Group(name)
		g.AddAdmin(sec)
		sec.SendIn(g, "/setup "+name)
		e.srv.WaitMessage(g.ID(), "is set up")
		// The import links the secretary to their entry in the cell just set up.
		imported := count(sec, "Imported")
		sec.SendDocument("roster.csv", []byte("name,standing,participation,until,reason\nNguyễn Thị Lan,official,regular,,\nTrần Văn Bình,official,regular,,\n"), "/import")
		e.srv.WaitUntil(func() bool { return count(sec, "Imported") > imported })
	}
	sec.Send("/help")
	last := sec.WaitMessage("Your Telegram id")
	if !strings.Contains(last.Text, fmt.Sprint(sec.ID())) || !strings.Contains(strings.Join(textsOf(sec), "\n"), "/broadcast") {
		t.Errorf("the help's last part: %q", last.Text)
	}
	chat := fmt.Sprint(sec.ID())
	for _, r := range e.srv.Requests("sendMessage") {
		if r.Params["chat_id"] == chat && r.Code != 200 {
			t.Errorf("sendMessage refused: %d %s (%d characters)", r.Code, r.Description, texts.Len(texts.Plain(r.Params["text"])))
		}
	}
}

func textsOf(u *telegramtest.User) []string {
	var out []string
	for _, m := range u.Messages() {
		out = append(out, m.Text)
	}
	return out
}
