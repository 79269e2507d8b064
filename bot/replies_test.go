package bot

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// chatRecorder is a Bot API that records the texts sent to each chat, in the
// order they arrive.
type chatRecorder struct {
	mu    sync.Mutex
	texts map[string][]string
}

func (c *chatRecorder) Do(_ context.Context, req telegram.Request, _ any) error {
	if req.Method() != "sendMessage" {
		return nil
	}
	p := req.Params()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.texts[p["chat_id"]] = append(c.texts[p["chat_id"]], p["text"])
	return nil
}

func (c *chatRecorder) got(chat string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.texts[chat]...)
}

// TestRepliesArriveInOrder: while an earlier reply to a chat waits in the
// queue, a new update's replies join the chat's lane behind it, and the chat
// gets them in that order, whatever the number of workers sending.
func TestRepliesArriveInOrder(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	store := storage.New(rdb, "")
	ctx := context.Background()
	const chat = 5
	tg := &chatRecorder{texts: map[string][]string{}}
	sender, err := delivery.NewSender(delivery.SenderParams{Store: store, Caller: tg, Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	// An earlier update's reply, held back a little (as a 429 would).
	earlier := delivery.Message{ID: "reply:earlier", To: storage.QueueRecipient{ChatID: chat}, Purpose: "reply", Priority: storage.PriorityUrgent,
		NotBefore: time.Now().Add(300 * time.Millisecond), Parts: delivery.TextParts(chat, []string{"earlier reply"}, nil)}
	if _, err := sender.Enqueue(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	b := New(Params{Store: store, Telegram: tg, Delivery: sender, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BotUsername: "cellbot_test_bot"})
	u := telegram.Update{UpdateID: 7, Message: &telegram.Message{MessageID: 1, From: &telegram.User{ID: chat, FirstName: "Lan"},
		Chat: telegram.Chat{ID: chat, Type: telegram.ChatPrivate}, Text: "/help"}}
	if err := b.HandleUpdate(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got := tg.got("5"); len(got) != 0 {
		t.Fatalf("the reply was sent at once, ahead of the one waiting in the queue: %q", got)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = sender.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for len(tg.got("5")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("got %q, want the earlier reply and /help's", tg.got("5"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := tg.got("5")
	if got[0] != "earlier reply" || !strings.Contains(got[1], "Trợ lý sinh hoạt chi bộ") {
		t.Errorf("arrival order %q, want the earlier reply, then /help's answer", got)
	}
}
