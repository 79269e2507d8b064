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
	sends  *atomic.Int32 // sends of every process
	killAt int32         // the send of any process after which victim dies
	victim *process
}

func (p *process) kill() {
	if p.dead.CompareAndSwap(false, true) {
		_ = p.rdb.Close()
	}
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
	if p.sends.Add(1) == p.killAt {
		p.victim.kill()
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
	limits := storage.DefaultRateLimits()
	limits.Global = storage.RateLimit{Every: time.Millisecond, Burst: 1}
	limits.Private = storage.RateLimit{Every: time.Millisecond, Burst: 1}
	var senders []*delivery.Sender
	var procs []*process
	// The first process is killed after the 25th send, whichever process
	// makes it: a victim that had to make that send itself was, now and then,
	// left without work by the other and never died. The messages are queued
	// through the victim so that its workers are awake and hold leases; the
	// other process's idle workers join by polling.
	var sends atomic.Int32
	for range 2 {
		procs = append(procs, &process{rdb: redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)}), box: box, frozen: make(chan struct{}), sends: &sends, killAt: 25})
	}
	for _, p := range procs {
		p.victim = procs[0]
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
	}
	const chats, each = 4, 15
	var msgs []delivery.Message
	for i := range each {
		for c := range chats {
			chat := int64(700 + c)
			msgs = append(msgs, delivery.Message{ID: fmt.Sprintf("o:%d:%02d", chat, i), To: storage.QueueRecipient{ChatID: chat},
				Parts: delivery.TextParts(chat, []string{fmt.Sprintf("%02d", i)}, nil), Purpose: "reply", Priority: storage.PriorityUrgent})
		}
	}
	if _, err := senders[0].Enqueue(context.Background(), msgs...); err != nil {
		t.Fatal(err)
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
	t.Logf("%d chats × %d messages, one process killed after the 25th send: in order, %d repeated", chats, each, repeats)
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
