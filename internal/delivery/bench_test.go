package delivery_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// BenchmarkBroadcast10k sends one message to each of 10,000 members (or
// CELLBOT_BENCH_N) through the test server with Telegram's limits on, and reports
// how close to the global limit's bound (N/30 s) it ran, the 429s the server
// answered, and the time from enqueue to Telegram's acceptance. It takes about
// six minutes: run it once,
//
//	go test ./delivery/ -run '^$' -bench Broadcast10k -benchtime 1x
func BenchmarkBroadcast10k(b *testing.B) {
	n := 10000
	if v := os.Getenv("CELLBOT_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("CELLBOT_BENCH_N=%q", v)
		}
	}
	env := newTestEnv(b)
	rec := &recordingCaller{next: env.bot, at: map[int64]time.Time{}}
	s := env.sender(b, delivery.SenderParams{Caller: rec})
	us := members(env.srv, n)
	msgs := broadcast("", us, textParts("Thông báo của chi bộ"))
	b.ResetTimer()
	var elapsed time.Duration
	var lat []time.Duration
	for i := range b.N {
		job := storage.QueueJob{ID: fmt.Sprint("bench", i), Lang: texts.VI}
		for j := range msgs {
			msgs[j].ID = fmt.Sprintf("bc:%s:%d", job.ID, j)
		}
		rec.reset()
		start := time.Now()
		if _, err := s.StartJob(context.Background(), job, msgs); err != nil {
			b.Fatal(err)
		}
		waitFor(b, time.Duration(n)*time.Second/10+time.Minute, func() bool { return rec.count() >= n })
		elapsed = time.Since(start)
		lat = rec.latencies(start)
	}
	b.StopTimer()
	bound := float64(n) / 30
	b.ReportMetric(elapsed.Seconds(), "s_total")
	b.ReportMetric(bound, "s_bound")
	b.ReportMetric(elapsed.Seconds()/bound, "ratio")
	b.ReportMetric(float64(env.srv.Stats().TooManyRequests), "429s")
	b.ReportMetric(quantile(lat, 0.50).Seconds(), "p50_s")
	b.ReportMetric(quantile(lat, 0.99).Seconds(), "p99_s")
}

// recordingCaller notes when Telegram accepted the first sendMessage to each chat.
type recordingCaller struct {
	next telegram.Caller
	mu   sync.Mutex
	at   map[int64]time.Time
}

func (r *recordingCaller) Do(ctx context.Context, req telegram.Request, result any) error {
	err := r.next.Do(ctx, req, result)
	if err == nil && req.Method() == "sendMessage" {
		chat, _ := strconv.ParseInt(req.Params()["chat_id"], 10, 64)
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
