package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
)

// fixture is one real update payload from testdata/updates.
type fixture struct {
	name    string
	kind    string // the update's field: message, callback_query…
	payload map[string]any
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "updates", "*", "*.json"))
	if err != nil || len(files) < 50 {
		t.Fatalf("fixtures: %d files, %v", len(files), err)
	}
	var out []fixture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var u map[string]any
		if err := json.Unmarshal(b, &u); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range u {
			if p, ok := v.(map[string]any); ok && k != "update_id" {
				out = append(out, fixture{name: filepath.Base(f), kind: k, payload: p})
			}
		}
	}
	return out
}

// retarget rewrites the ids of users and chats in a payload to a user and a
// group the test server knows, so that the bot's answers go to real chats; the
// bot's own user objects and channels are left alone.
func retarget(v any, user, group int64) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			x[k] = retarget(c, user, group)
		}
		if _, ok := x["id"].(float64); ok {
			switch {
			case x["type"] == "private":
				x["id"] = user
			case x["type"] == "group" || x["type"] == "supergroup":
				x["id"] = group
			case x["type"] == nil && x["first_name"] != nil && x["is_bot"] != true:
				x["id"] = user
			}
		}
		return x
	case []any:
		for i, c := range x {
			x[i] = retarget(c, user, group)
		}
	}
	return v
}

// checkCorpusRequests fails on any request of the bot the server refused, but
// the 429s of its limits.
func checkCorpusRequests(t *testing.T, srv *telegramtest.Server) {
	t.Helper()
	// The corpus reached the handlers: its button presses were answered.
	if st := srv.Stats(); st.Requests["answerCallbackQuery"] < 3 {
		t.Errorf("%d button presses answered; the corpus did not reach the bot", st.Requests["answerCallbackQuery"])
	}
	for _, r := range srv.Requests("") {
		if r.Code != http.StatusOK && r.Code != http.StatusTooManyRequests {
			t.Errorf("%s refused with %d %q; params %v", r.Method, r.Code, r.Description, r.Params)
		}
	}
}

func checkNoApology(t *testing.T, e *env, chats ...int64) {
	t.Helper()
	for _, c := range chats {
		if n := countContaining(e.srv.Messages(c), "bot đang gặp trục trặc"); n != 0 {
			t.Errorf("chat %d got %d apologies: a handler failed", c, n)
		}
	}
}

// TestRealUpdatePayloads: every update payload of
// the corpus goes through the poll loop and through the webhook handler: no
// panic (the bot answers afterwards and never apologised), no 5xx, and no
// request the Bot API test server refuses.
func TestRealUpdatePayloads(t *testing.T) {

	// Each payload comes from a user and group of its own (chats are paced
	// apart by Telegram's limits); one in four comes from a cell's secretary
	// in the cell's group, the cells taken in turn, so that nobody sends more
	// updates at once than the bot's per-user limit lets through (20 in 10 s).
	type scene struct {
		u *telegramtest.User
		g *telegramtest.Group
	}
	scenes := func(t *testing.T, e *env) []scene {
		var out []scene
		for i := range 4 {
			u := e.srv.UserNamed("Mario", "Bros")
			g := e.srv.Group(fmt.Sprint("Testing cell ", i))
			g.AddAdmin(u)
			setupCell(t, e, u, g)
			out = append(out, scene{u, g})
		}
		return out
	}
	// After the corpus, each cell's secretary is answered, and nobody got an
	// apology.
	check := func(t *testing.T, e *env, cells []scene) {
		for _, c := range cells {
			c.u.Send("/help")
			c.u.WaitMessage("Các lệnh")
		}
		checkCorpusRequests(t, e.srv)
		for _, c := range cells {
			checkNoApology(t, e, c.u.ID(), c.g.ID())
		}
	}
	actors := func(e *env, i int) (*telegramtest.User, *telegramtest.Group) {
		u := e.srv.UserNamed("Mario", fmt.Sprint("Bros ", i))
		u.Opened()
		g := e.srv.Group(fmt.Sprint("Testing ", i))
		g.AddAdmin(u)
		return u, g
	}
	payload := func(f fixture, i int, u *telegramtest.User, g *telegramtest.Group) map[string]any {
		p := retarget(f.payload, u.ID(), g.ID()).(map[string]any)
		if f.kind == "callback_query" {
			p["id"] = fmt.Sprint(p["id"], i) // fixtures share query ids
		}
		return p
	}

	t.Run("poll loop", func(t *testing.T) {
		e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
		e.start()
		cells := scenes(t, e)
		fixtures := loadFixtures(t) // retarget rewrites them in place
		for i, f := range fixtures {
			c := cells[i/4%len(cells)]
			fu, fg := c.u, c.g
			if i%4 != 0 {
				fu, fg = actors(e, i)
			}
			b, _ := json.Marshal(payload(f, i, fu, fg))
			e.srv.InjectUpdate(f.kind, b)
		}
		e.srv.WaitIdle()
		check(t, e, cells)
	})

	t.Run("webhook", func(t *testing.T) {
		e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
		port := testenv.FreePort(t)
		e.vars["CELLBOT_HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
		e.vars["CELLBOT_WEBHOOK_URL"] = fmt.Sprintf("http://127.0.0.1:%d/telegram/webhook", port)
		e.vars["CELLBOT_WEBHOOK_SECRET"] = "corpus-secret"
		e.start()
		cells := scenes(t, e)
		client := &http.Client{Timeout: 40 * time.Second}
		fixtures := loadFixtures(t)
		for i, f := range fixtures {
			c := cells[i/4%len(cells)]
			fu, fg := c.u, c.g
			if i%4 != 0 {
				fu, fg = actors(e, i)
			}
			p := payload(f, i, fu, fg)
			if f.kind == "callback_query" {
				// The server must know the query for the bot's answer to pass.
				b, _ := json.Marshal(p)
				e.srv.KnowCallbackQuery(b)
			}
			body, _ := json.Marshal(map[string]any{"update_id": 900000 + i, f.kind: p})
			req, _ := http.NewRequest(http.MethodPost, e.vars["CELLBOT_WEBHOOK_URL"], bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "corpus-secret")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("%s (%s): webhook answered %d", f.name, f.kind, resp.StatusCode)
			}
		}
		e.srv.WaitIdle()
		check(t, e, cells)
	})
}

// TestTopicsForwardsAndNoBreakSpaces: replies go to
// the forum topic the command came from; a forwarded command is not executed; a
// no-break space after a command counts as a space.
func TestTopicsForwardsAndNoBreakSpaces(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec, g := cs.secretary, cs.group
	// The join links /setup and the import post in the group may still be
	// queued behind the group's rate limit: the links are told apart by their
	// thread, not by their order.
	links := func(thread string) int {
		n := 0
		for _, r := range e.srv.Requests("sendMessage") {
			if strings.Contains(r.Params["text"], "Mời các đồng chí bấm nút") && r.Params["chat_id"] == fmt.Sprint(g.ID()) && r.Params["message_thread_id"] == thread {
				n++
			}
		}
		return n
	}
	sec.SendInTopic(g, 42, "/join")
	e.srv.WaitUntil(func() bool { return links("42") == 1 })
	e.srv.WaitIdle()
	before := links("")
	sec.SendIn(g, "/join")
	e.srv.WaitUntil(func() bool { return links("") > before })
	e.srv.WaitIdle()
	if n := links("42"); n != 1 {
		t.Errorf("%d replies in topic 42, want the one to the command sent there", n)
	}

	// Forwarded: not executed.
	sec.Forward("/exempt Lê Thị Hoa")
	sec.Forward("/broadcast Tin chuyển tiếp")
	e.srv.WaitIdle()
	if m := rosterByName(t, e, cs.cell.ID)["Lê Thị Hoa"]; m.Participation != "regular" {
		t.Errorf("a forwarded /exempt was executed: %+v", m)
	}
	if n := countContaining(sec.Messages(), "Đang gửi"); n != 0 {
		t.Errorf("a forwarded /broadcast was executed")
	}

	// A no-break space after the command (some phone keyboards).
	sec.Send("/exempt\u00a0Lê Thị Hoa\u00a0cao tuổi")
	sec.WaitMessage("Lê Thị Hoa: miễn sinh hoạt (cao tuổi)")
}
