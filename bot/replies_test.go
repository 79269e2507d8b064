package bot

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// queueRecorder keeps the messages queued through it.
type queueRecorder struct {
	nullDelivery
	mu   sync.Mutex
	msgs []delivery.Message
}

func (q *queueRecorder) Enqueue(_ context.Context, msgs ...delivery.Message) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msgs...)
	return len(msgs), nil
}

// TestRepliesQueueBehindAnEarlierUpdates: while a reply of an earlier update
// waits in the queue for the chat, a new update's reply is queued due after it
// (a chat's pace later), so that two workers cannot send them out of order.
func TestRepliesQueueBehindAnEarlierUpdates(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	store := storage.New(rdb, "")
	ctx := context.Background()
	const chat = 5
	due := time.Now().Add(20 * time.Second).Truncate(time.Millisecond)
	if _, err := store.Enqueue(ctx, time.Now(), []storage.QueueEntry{{ID: "reply:earlier", To: storage.QueueRecipient{ChatID: chat},
		Priority: storage.PriorityUrgent, NotBefore: due, Parts: []json.RawMessage{json.RawMessage(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkReplyQueued(ctx, chat, "reply:earlier"); err != nil {
		t.Fatal(err)
	}
	q := &queueRecorder{}
	b := New(Params{Store: store, Telegram: &nullTelegram{}, Delivery: q, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BotUsername: "cellbot_test_bot"})
	u := telegram.Update{UpdateID: 7, Message: &telegram.Message{MessageID: 1, From: &telegram.User{ID: chat, FirstName: "Lan"},
		Chat: telegram.Chat{ID: chat, Type: telegram.ChatPrivate}, Text: "/help"}}
	if err := b.HandleUpdate(ctx, u); err != nil {
		t.Fatal(err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs) == 0 {
		t.Fatal("the reply was sent at once, ahead of the one waiting in the queue")
	}
	for i, m := range q.msgs {
		if want := due.Add(time.Duration(i+1) * 2 * replySpacing(chat)); m.NotBefore.Before(want) {
			t.Errorf("reply %d due %v, before %v (the earlier reply's time and a chat's pace)", i+1, m.NotBefore, want)
		}
	}
}
