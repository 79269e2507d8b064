package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// calls records the bot's requests to Telegram, answering each at once.
type calls struct {
	mu   sync.Mutex
	reqs []telegram.Request
}

func (c *calls) Do(_ context.Context, req telegram.Request, result any) error {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	if result != nil {
		return json.Unmarshal([]byte(`{"message_id":1,"chat":{"id":1,"type":"private"}}`), result)
	}
	return nil
}

func (c *calls) all() []telegram.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]telegram.Request(nil), c.reqs...)
}

// sent is the texts of the messages sent to chat.
func (c *calls) sent(chat int64) []string {
	var out []string
	for _, r := range c.all() {
		if m, ok := r.(telegram.SendMessage); ok && m.ChatID == chat {
			out = append(out, m.Text)
		}
	}
	return out
}

// answer is the answer to the press id, and whether it was answered.
func (c *calls) answer(id string) (telegram.AnswerCallbackQuery, bool) {
	for _, r := range c.all() {
		if a, ok := r.(telegram.AnswerCallbackQuery); ok && a.ID == id {
			return a, true
		}
	}
	return telegram.AnswerCallbackQuery{}, false
}

// waitUntil waits for cond with a deadline, polling.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func privateText(id int, user int64, text string) telegram.Update {
	return telegram.Update{UpdateID: id, Message: &telegram.Message{MessageID: id, Date: 1700000000,
		From: &telegram.User{ID: user, FirstName: "Khách"}, Chat: telegram.Chat{ID: user, Type: telegram.ChatPrivate}, Text: text}}
}

func privatePress(id int, user int64, data string) telegram.Update {
	return telegram.Update{UpdateID: id, CallbackQuery: &telegram.CallbackQuery{ID: fmt.Sprint("q", id), From: telegram.User{ID: user, FirstName: "Khách"},
		Message: &telegram.Message{MessageID: 1, Chat: telegram.Chat{ID: user, Type: telegram.ChatPrivate}}, Data: data}}
}

// TestFloodLimitIgnoresAUser: of a user's messages in quick succession, the
// first twenty are answered, the one past them is answered with the notice,
// and the rest get nothing and are dropped as they arrive; of presses, the one
// past the limit gets the notice as an alert and every later one a short text,
// whether Redis or the process's memory tells it is ignored; other users are
// answered as before.
func TestFloodLimitIgnoresAUser(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	tg := &calls{}
	b := New(Params{Store: storage.New(rdb, prefix), Telegram: tg, Delivery: nullDelivery{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BotUsername: "cellbot_test_bot"})
	ctx := context.Background()
	notice, pressed := texts.T(texts.VI, texts.CommonFlood), texts.Plain(texts.T(texts.VI, texts.CommonFloodPress))

	const flooder, other = 501, 502
	id := 0
	for range floodUpdates + 5 {
		id++
		u := privateText(id, flooder, "tin chuyển tiếp")
		if !b.Arrived(ctx, u) {
			continue // known ignored: dropped on arrival
		}
		if err := b.HandleUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	got := tg.sent(flooder)
	if len(got) != floodUpdates+1 || got[floodUpdates] != notice {
		t.Fatalf("flooder got %d messages, the last %q; want %d answers and the notice", len(got), got[len(got)-1], floodUpdates)
	}
	id++
	if b.Arrived(ctx, privateText(id, flooder, "nữa")) {
		t.Error("an ignored user's message was taken on arrival")
	}
	id++
	if u := privateText(id, other, "xin chào"); !b.Arrived(ctx, u) || b.HandleUpdate(ctx, u) != nil || len(tg.sent(other)) != 1 {
		t.Errorf("another user was not answered: %v", tg.sent(other))
	}

	// Presses: a committee member's, as anyone's, are never dropped without a
	// word. The limit is reached, then presses come as they do in a burst:
	// all arrived before the first is handled.
	const presser = 503
	var ups []telegram.Update
	for range floodUpdates + 3 {
		id++
		ups = append(ups, privatePress(id, presser, "garbage"))
	}
	for _, u := range ups {
		if !b.Arrived(ctx, u) {
			t.Fatalf("press %d dropped on arrival before any was handled", u.UpdateID)
		}
	}
	for _, u := range ups {
		if err := b.HandleUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range ups {
		a, ok := tg.answer(u.CallbackQuery.ID)
		switch {
		case !ok:
			t.Errorf("press %d was not answered", i)
		case i < floodUpdates && a.Text == "":
			t.Errorf("press %d within the limit answered without its handler's text", i)
		case i == floodUpdates && (a.Text != texts.Plain(notice) || !a.Alert):
			t.Errorf("the press past the limit answered %q (alert %v), want the notice", a.Text, a.Alert)
		case i > floodUpdates && a.Text != pressed:
			t.Errorf("ignored press %d answered %q, want %q", i, a.Text, pressed)
		}
	}
	// Known ignored now: an RSVP press in a private chat, otherwise answered
	// at once without a word, is dropped with the short text.
	id++
	rsvp := privatePress(id, presser, buttonVersion+":"+verbRSVP+":1:1:y")
	if b.Arrived(ctx, rsvp) {
		t.Fatal("an ignored user's press was taken on arrival")
	}
	waitUntil(t, "the dropped press's answer", func() bool { _, ok := tg.answer(rsvp.CallbackQuery.ID); return ok })
	if a, _ := tg.answer(rsvp.CallbackQuery.ID); a.Text != pressed {
		t.Errorf("dropped press answered %q, want %q", a.Text, pressed)
	}
}

// TestUnusableUpdatesAreSkipped: hostile variants of real payloads (fields a
// handler needs missing or made up) are skipped before any Redis work, logged
// without the user's text, and answered nowhere; the bot is not stopped by them.
func TestUnusableUpdatesAreSkipped(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	tg := &calls{}
	var logs bytes.Buffer
	var logMu sync.Mutex
	b := New(Params{Store: storage.New(rdb, prefix), Telegram: tg, Delivery: nullDelivery{},
		Logger:      slog.New(slog.NewTextHandler(lockedBuffer{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BotUsername: "cellbot_test_bot"})
	ctx := context.Background()
	const secret = "bí mật riêng"

	// The payloads, as Telegram sends them, but for what each case takes out.
	message := `{"message_id":123,"from":{"id":456,"is_bot":false,"first_name":"Mario","language_code":"en"},` +
		`"chat":{"id":456,"first_name":"Mario","type":"private"},"date":1684984664,"text":"/help ` + secret + `"}`
	press := `{"id":"6667","from":{"id":222,"is_bot":false,"first_name":"Mario"},"message":{"message_id":69587,` +
		`"chat":{"id":222,"first_name":"Mario","type":"private"},"date":1584984711,"text":"x"},"chat_instance":"1","data":"` + secret + `"}`
	member := `{"chat":{"id":-100987,"title":"G","type":"supergroup"},"from":{"id":456,"is_bot":false,"first_name":"Mario"},` +
		`"date":1,"old_chat_member":{"status":"administrator","user":{"id":1,"is_bot":true,"first_name":"b"}},` +
		`"new_chat_member":{"status":"left","user":{"id":1,"is_bot":true,"first_name":"b"}}}`
	tests := []struct {
		name, kind, payload string
		drop                []string // fields taken out, as "a.b"
		set                 map[string]any
	}{
		{"message without chat", "message", message, []string{"chat"}, nil},
		{"message without sender", "message", message, []string{"from"}, nil},
		{"message with chat id 0", "message", message, nil, map[string]any{"chat.id": 0}},
		{"message in a chat of no type", "message", message, []string{"chat.type"}, nil},
		{"message in a channel", "message", message, nil, map[string]any{"chat.type": "channel"}},
		{"message in another user's private chat", "message", message, nil, map[string]any{"chat.id": 789}},
		{"message from user 0", "message", message, nil, map[string]any{"from.id": 0}},
		{"press without message", "callback_query", press, []string{"message"}, nil},
		{"press with message null", "callback_query", press, nil, map[string]any{"message": nil}},
		{"press without sender", "callback_query", press, []string{"from"}, nil},
		{"press without id", "callback_query", press, []string{"id"}, nil},
		{"press on a message without chat", "callback_query", press, []string{"message.chat"}, nil},
		{"press in another user's private chat", "callback_query", press, nil, map[string]any{"message.chat.id": 333}},
		{"membership without chat", "my_chat_member", member, []string{"chat"}, nil},
		{"membership without sender", "my_chat_member", member, []string{"from"}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p map[string]any
			if err := json.Unmarshal([]byte(tt.payload), &p); err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.drop {
				path := strings.Split(f, ".")
				delete(dig(p, path[:len(path)-1]), path[len(path)-1])
			}
			if _, ok := p["id"]; ok && tt.kind == "callback_query" {
				p["id"] = fmt.Sprint("q", i) // each press its own
			}
			for f, v := range tt.set {
				path := strings.Split(f, ".")
				dig(p, path[:len(path)-1])[path[len(path)-1]] = v
			}
			raw, _ := json.Marshal(map[string]any{"update_id": 1000 + i, tt.kind: p})
			u, err := telegram.DecodeUpdate(raw)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			logMu.Lock()
			logs.Reset()
			logMu.Unlock()
			before := len(tg.all())
			b.Arrived(ctx, u)
			if err := b.HandleUpdate(ctx, u); err != nil {
				t.Fatalf("handle: %v", err)
			}
			for _, r := range tg.all()[before:] {
				if _, ok := r.(telegram.AnswerCallbackQuery); !ok {
					t.Errorf("the bot answered: %s %v", r.Method(), r)
				}
			}
			// A press still has its spinner stopped, without a word.
			if q := u.CallbackQuery; q != nil && q.ID != "" {
				if a, ok := tg.answer(q.ID); !ok || a.Text != "" {
					t.Errorf("press answered %v with %q; want answered without a text", ok, a.Text)
				}
			}
			if keys := rdb.Keys(ctx, prefix+":*").Val(); len(keys) != 0 {
				t.Errorf("Redis was written: %v", keys)
			}
			logMu.Lock()
			out := logs.String()
			logMu.Unlock()
			if !strings.Contains(out, "skipped an update") || !strings.Contains(out, "level=WARN") {
				t.Errorf("not logged as skipped: %s", out)
			}
			if strings.Contains(out, secret) || strings.Contains(out, "Mario") {
				t.Errorf("the log carries the user's words: %s", out)
			}
		})
	}
	// The real payloads themselves are handled.
	var u telegram.Update
	if err := json.Unmarshal([]byte(`{"update_id":2000,"message":`+message+`}`), &u); err != nil {
		t.Fatal(err)
	}
	if err := b.HandleUpdate(ctx, u); err != nil || len(tg.sent(456)) != 1 {
		t.Errorf("the real message: %v, answered %d times", err, len(tg.sent(456)))
	}
}

// dig walks a decoded JSON object down path, and returns the object there.
func dig(m map[string]any, path []string) map[string]any {
	for _, k := range path {
		m = m[k].(map[string]any)
	}
	return m
}

// lockedBuffer is a log destination written from several goroutines.
type lockedBuffer struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
