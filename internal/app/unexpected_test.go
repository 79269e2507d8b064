package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
)

// variant is a hostile variant of a real payload: what it takes out or makes up.
type variant struct {
	name string
	edit func(p map[string]any, victim int64) bool // false: not for this payload
}

// hostile are the variants: each leaves an update without something handling
// it needs, or names a chat that is not the sender's.
var hostile = []variant{
	{"no chat", func(p map[string]any, _ int64) bool { return del(p, "chat") }},
	{"no sender", func(p map[string]any, _ int64) bool { return del(p, "from") }},
	{"chat 0", func(p map[string]any, _ int64) bool { return set(p, "chat", "id", 0) }},
	{"chat of no type", func(p map[string]any, _ int64) bool { return del(obj(p, "chat"), "type") }},
	{"sender 0", func(p map[string]any, _ int64) bool { return set(p, "from", "id", 0) }},
	{"someone else's private chat", func(p map[string]any, victim int64) bool { return private(obj(p, "chat"), victim) }},
	{"press without its message", func(p map[string]any, _ int64) bool { return p["data"] != nil && del(p, "message") }},
	{"press on a message without chat", func(p map[string]any, _ int64) bool { return del(obj(p, "message"), "chat") }},
	{"press in someone else's private chat", func(p map[string]any, victim int64) bool {
		return private(obj(obj(p, "message"), "chat"), victim)
	}},
}

func obj(p map[string]any, k string) map[string]any {
	if p == nil {
		return nil
	}
	o, _ := p[k].(map[string]any)
	return o
}

func del(p map[string]any, k string) bool {
	if _, ok := p[k]; !ok || p == nil {
		return false
	}
	delete(p, k)
	return true
}

func set(p map[string]any, o, k string, v any) bool {
	if x := obj(p, o); x != nil {
		x[k] = v
		return true
	}
	return false
}

func private(chat map[string]any, victim int64) bool {
	if chat == nil || chat["type"] != "private" {
		return false
	}
	chat["id"] = victim
	return true
}

// hostilePayloads are the hostile variants of the corpus's messages, presses
// and membership changes, retargeted to u and g first, each as a kind and a
// payload.
func hostilePayloads(t *testing.T, u *telegramtest.User, g *telegramtest.Group, victim int64) (kinds []string, payloads []map[string]any) {
	t.Helper()
	for i, f := range loadFixtures(t) {
		if f.kind != "message" && f.kind != "callback_query" && f.kind != "my_chat_member" {
			continue
		}
		base, _ := json.Marshal(retarget(f.payload, u.ID(), g.ID()))
		for j, v := range hostile {
			var p map[string]any
			_ = json.Unmarshal(base, &p)
			if !v.edit(p, victim) {
				continue
			}
			if f.kind == "callback_query" {
				p["id"] = fmt.Sprintf("hostile-%d-%d", i, j) // fixtures share query ids
			}
			kinds, payloads = append(kinds, f.kind), append(payloads, p)
		}
	}
	if len(payloads) < 100 {
		t.Fatalf("%d hostile variants; the corpus did not load", len(payloads))
	}
	return kinds, payloads
}

// checkAnsweredNowhere fails on any request of the bot to chat 0 or the
// victim's chat, and on any message to the scene's chats beyond those they had.
func checkAnsweredNowhere(t *testing.T, e *env, victim int64, had map[int64]int) {
	t.Helper()
	for _, r := range e.srv.Requests("") {
		if id := r.Params["chat_id"]; id == "0" || id == strconv.FormatInt(victim, 10) {
			t.Errorf("%s to made-up chat %s: %v", r.Method, id, r.Params)
		}
	}
	for chat, n := range had {
		if got := len(e.srv.Messages(chat)); got != n {
			t.Errorf("chat %d got %d messages from hostile updates", chat, got-n)
		}
	}
}

// TestUnexpectedUpdates: hostile variants of the corpus's real payloads (a
// message without its chat or sender, chat 0, a private chat that is not the
// sender's, a press without its sender or its message…) go through the poll
// loop and the webhook: none is answered, least of all in a chat made up from
// what is missing, the Bot API refuses none of the bot's requests, a press
// still has its spinner stopped, and a member's /help is answered after them.
func TestUnexpectedUpdates(t *testing.T) {
	t.Parallel()
	scene := func(t *testing.T, e *env) (*telegramtest.User, *telegramtest.Group, *telegramtest.User) {
		u := e.srv.UserNamed("Mario", "Bros")
		g := e.srv.Group("Testing")
		g.AddAdmin(u)
		setupCell(t, e, u, g)
		victim := e.srv.User("Người ngoài cuộc")
		victim.Opened()
		return u, g, victim
	}

	t.Run("poll loop", func(t *testing.T) {
		e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
		e.start()
		u, g, victim := scene(t, e)
		had := map[int64]int{u.ID(): len(u.Messages()), g.ID(): len(e.srv.Messages(g.ID()))}
		kinds, payloads := hostilePayloads(t, u, g, victim.ID())
		for i, p := range payloads {
			b, _ := json.Marshal(p)
			e.srv.InjectUpdate(kinds[i], b)
		}
		e.srv.WaitIdle()
		checkAnsweredNowhere(t, e, victim.ID(), had)
		u.Send("/help")
		u.WaitMessage("Các lệnh")
		checkCorpusRequests(t, e.srv)
	})

	t.Run("webhook", func(t *testing.T) {
		e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
		port := testenv.FreePort(t)
		e.vars["CELLBOT_HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
		e.vars["CELLBOT_WEBHOOK_URL"] = fmt.Sprintf("http://127.0.0.1:%d/telegram/webhook", port)
		e.vars["CELLBOT_WEBHOOK_SECRET"] = "hostile-secret"
		e.start()
		u, g, victim := scene(t, e)
		e.srv.WaitIdle()
		had := map[int64]int{u.ID(): len(u.Messages()), g.ID(): len(e.srv.Messages(g.ID()))}
		kinds, payloads := hostilePayloads(t, u, g, victim.ID())
		client := &http.Client{Timeout: 40 * time.Second}
		for i, p := range payloads {
			raw, _ := json.Marshal(p)
			if kinds[i] == "callback_query" {
				e.srv.KnowCallbackQuery(raw)
			}
			body, _ := json.Marshal(map[string]any{"update_id": 800000 + i, kinds[i]: json.RawMessage(raw)})
			req, _ := http.NewRequest(http.MethodPost, e.vars["CELLBOT_WEBHOOK_URL"], bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "hostile-secret")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: webhook answered %d, want 200 (skipped, not to come again)", kinds[i], resp.StatusCode)
			}
		}
		checkAnsweredNowhere(t, e, victim.ID(), had)
		u.Send("/help")
		u.WaitMessage("Các lệnh")
		checkCorpusRequests(t, e.srv)
	})
}
