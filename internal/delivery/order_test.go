package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// arrivals is a Bot API that records the texts each chat receives, in order.
type arrivals struct {
	mu    sync.Mutex
	chats map[int64][]string
}

func (a *arrivals) add(chat int64, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.chats[chat] = append(a.chats[chat], text)
}

func (a *arrivals) of(chat int64) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.chats[chat]...)
}

// process is one sender process of the test: its own Redis connection and its
// own view of the Bot API. kill stops it as SIGKILL would: nothing it does
// reaches Redis or Telegram any more.
type process struct {
	rdb    *redis.Client
	box    *arrivals
	dead   atomic.Bool
	frozen chan struct{}
	sends  *atomic.Int32 // sends of every process, to kill this one midway
	killAt int32         // this process dies after the send that makes sends reach it (0: never)
}

func (p *process) Do(ctx context.Context, req telegram.Request, _ any) error {
	if p.dead.Load() {
		<-p.frozen
		return errors.New("killed")
	}
	v := req.Params()
	chat, _ := strconv.ParseInt(v["chat_id"], 10, 64)
	p.box.add(chat, v["text"])
	// Random-ish latency, so that workers overtake one another.
	time.Sleep(time.Duration(chat%3) * time.Millisecond)
	if n := p.sends.Add(1); p.killAt != 0 && n >= p.killAt && p.dead.CompareAndSwap(false, true) {
		_ = p.rdb.Close()
	}
	return nil
}

// TestQueueKeepsEachChatsOrder: four chats' messages, queued in order, sent by
// two processes of four workers each on one Redis, one of them killed in the
// middle: every chat gets every message, in the order queued, while the other
// chats go on. A message in flight at the kill may come twice (right after
// itself), never out of order.
func TestQueueKeepsEachChatsOrder(t *testing.T) {
	_, prefix := testenv.RedisEnv(t)
	box := &arrivals{chats: map[int64][]string{}}
	var sends atomic.Int32
	limits := storage.DefaultRateLimits()
	limits.Global = storage.RateLimit{Every: time.Millisecond, Burst: 1}
	limits.Private = storage.RateLimit{Every: time.Millisecond, Burst: 1}
	var senders []*delivery.Sender
	var procs []*process
	for _, killAt := range []int32{25, 0} {
		p := &process{rdb: redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)}), box: box, frozen: make(chan struct{}), sends: &sends, killAt: killAt}
		s, err := delivery.NewSender(delivery.SenderParams{Store: storage.New(p.rdb, prefix), Caller: p, Workers: 4, Limits: limits,
			Lease: 600 * time.Millisecond, RecoverEvery: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = s.Run(ctx); close(done) }()
		t.Cleanup(func() {
			close(p.frozen)
			cancel()
			<-done
			if !p.dead.Load() {
				_ = p.rdb.Close()
			}
		})
		senders = append(senders, s)
		procs = append(procs, p)
	}
	const chats, each = 4, 15
	for i := range each {
		var msgs []delivery.Message
		for c := range chats {
			chat := int64(700 + c)
			msgs = append(msgs, delivery.Message{ID: fmt.Sprintf("o:%d:%02d", chat, i), To: storage.QueueRecipient{ChatID: chat},
				Parts: delivery.TextParts(chat, []string{fmt.Sprintf("%02d", i)}, nil), Purpose: "reply", Priority: storage.PriorityUrgent})
		}
		if _, err := senders[1].Enqueue(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for c := range chats {
		chat := int64(700 + c)
		for distinct(box.of(chat)) < each {
			if time.Now().After(deadline) {
				t.Fatalf("chat %d got %q, want %d messages", chat, box.of(chat), each)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	repeats := 0
	for c := range chats {
		chat := int64(700 + c)
		got := box.of(chat)
		want := 0
		for i, text := range got {
			if i > 0 && text == got[i-1] {
				repeats++ // in flight at the kill: sent again right after
				continue
			}
			if text != fmt.Sprintf("%02d", want) {
				t.Errorf("chat %d got %q: out of order at %d", chat, got, i)
				break
			}
			want++
		}
	}
	if !procs[0].dead.Load() {
		t.Fatal("the first process was not killed in the middle")
	}
	t.Logf("%d chats × %d messages, one process killed at its first send from the 25th on: in order, %d repeated", chats, each, repeats)
}

func distinct(texts []string) int {
	n := 0
	for i, s := range texts {
		if i == 0 || s != texts[i-1] {
			n++
		}
	}
	return n
}
