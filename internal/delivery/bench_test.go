package delivery_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// BenchmarkBroadcast10k sends one message to each of 10,000 members (or
// CELLBOT_BENCH_N) through the test server with Telegram's limits on, and reports
// how close to the global limit's bound (N/30 s) it ran, the 429s the server
// answered, and the time from enqueue to Telegram's acceptance. It takes about
// six minutes: run it once,
//
//	go test ./internal/delivery/ -run '^$' -bench Broadcast10k -benchtime 1x
func BenchmarkBroadcast10k(b *testing.B) { benchBroadcast(b, 0) }

// BenchmarkBroadcastCompeting is BenchmarkBroadcast10k while replies and edits
// compete for the same limits: benchRepliers chats each get, as fast as their
// own limit allows, a reply then an edit of it through Sender.Direct. The bound
// is then (N + replies and edits accepted meanwhile)/30 s.
func BenchmarkBroadcastCompeting(b *testing.B) { benchBroadcast(b, benchRepliers) }

// benchRepliers is how many chats compete with the broadcast: about 5 sends a
// second in all, each private chat being held to one send per 1.1 s.
const benchRepliers = 6

func benchBroadcast(b *testing.B, repliers int) {
	n := 10000
	if v := os.Getenv("CELLBOT_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("CELLBOT_BENCH_N=%q", v)
		}
	}
	env := newTestEnv(b)
	us := members(env.srv, n)
	want := make(map[int64]bool, n)
	for _, u := range us {
		want[u.ID()] = true
	}
	rec := &recordingCaller{next: env.bot, want: want, at: map[int64]time.Time{}}
	s := env.sender(b, delivery.SenderParams{Caller: rec})
	var others []*telegramtest.User
	for i := range repliers {
		u := env.srv.User(fmt.Sprintf("Người hỏi %d", i+1))
		u.Start("")
		others = append(others, u)
	}
	msgs := broadcast("", us, textParts("Thông báo của chi bộ"))
	b.ResetTimer()
	var elapsed time.Duration
	var lat []time.Duration
	var competing int64
	for i := range b.N {
		job := storage.QueueJob{ID: fmt.Sprint("bench", i), Lang: texts.VI}
		for j := range msgs {
			msgs[j].ID = fmt.Sprintf("bc:%s:%d", job.ID, j)
		}
		rec.reset()
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, u := range others {
			wg.Go(func() { compete(ctx, s.Direct(), u.ID()) })
		}
		start := time.Now()
		if _, err := s.StartJob(context.Background(), job, msgs); err != nil {
			b.Fatal(err)
		}
		waitFor(b, time.Duration(n)*time.Second/10+time.Minute, func() bool { return rec.count() >= n })
		elapsed = time.Since(start)
		competing = rec.others.Load()
		stop()
		wg.Wait()
		lat = rec.latencies(start)
	}
	b.StopTimer()
	bound := float64(n+int(competing)) / 30
	b.ReportMetric(elapsed.Seconds(), "s_total")
	b.ReportMetric(bound, "s_bound")
	b.ReportMetric(elapsed.Seconds()/bound, "ratio")
	b.ReportMetric(float64(env.srv.Stats().TooManyRequests), "429s")
	b.ReportMetric(quantile(lat, 0.50).Seconds(), "p50_s")
	b.ReportMetric(quantile(lat, 0.99).Seconds(), "p99_s")
	if repliers > 0 {
		b.ReportMetric(float64(competing), "competing")
	}
}

// compete sends a reply to chat and then edits it, again and again, through the
// rate-limited caller, until ctx ends.
func compete(ctx context.Context, direct telegram.Caller, chat int64) {
	for i := 0; ctx.Err() == nil; i++ {
		var m telegram.Message
		if err := direct.Do(ctx, telegram.SendMessage{ChatID: chat, Text: fmt.Sprint("Trả lời ", i)}, &m); err != nil {
			continue // rate limited for longer than Direct waits: try again
		}
		_ = direct.Do(ctx, telegram.EditMessageText{ChatID: chat, MessageID: m.MessageID, Text: fmt.Sprint("Trả lời ", i, " (đã sửa)")}, nil)
	}
}

// recordingCaller notes when Telegram accepted the first sendMessage to each chat
// it wants, and counts what it accepted for the other chats.
type recordingCaller struct {
	next   telegram.Caller
	want   map[int64]bool // read-only
	others atomic.Int64
	mu     sync.Mutex
	at     map[int64]time.Time
}

func (r *recordingCaller) Do(ctx context.Context, req telegram.Request, result any) error {
	err := r.next.Do(ctx, req, result)
	chat, _ := strconv.ParseInt(req.Params()["chat_id"], 10, 64)
	if err == nil && !r.want[chat] && (req.Method() == "sendMessage" || req.Method() == "editMessageText") {
		r.others.Add(1)
	}
	if err == nil && req.Method() == "sendMessage" && r.want[chat] {
		now := time.Now()
		r.mu.Lock()
		if _, ok := r.at[chat]; !ok {
			r.at[chat] = now
		}
		r.mu.Unlock()
	}
	return err
}

func (r *recordingCaller) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.at)
	r.others.Store(0)
}

func (r *recordingCaller) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.at)
}

func (r *recordingCaller) latencies(since time.Time) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Duration, 0, len(r.at))
	for _, t := range r.at {
		out = append(out, t.Sub(since))
	}
	slices.Sort(out)
	return out
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(q*float64(len(sorted))), len(sorted)-1)]
}
