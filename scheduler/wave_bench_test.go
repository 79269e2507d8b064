package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// simClock is the simulated time a wave runs on.
type simClock struct{ t time.Time }

func (c *simClock) now() time.Time { return c.t }

// simQueue hands the scheduler's messages to the real queue at the simulated
// time, as delivery.Sender does at Redis's.
type simQueue struct {
	store *storage.Store
	clock *simClock
}

func (q simQueue) Enqueue(ctx context.Context, msgs ...delivery.Message) (int, error) {
	entries, err := delivery.QueueEntries("", msgs)
	if err != nil {
		return 0, err
	}
	return q.store.Enqueue(ctx, q.clock.now(), entries)
}

func (q simQueue) EnqueueWave(ctx context.Context, t delivery.WaveTemplate, msgs []storage.WaveMessage) (int, error) {
	tpl, err := t.Stored()
	if err != nil {
		return 0, err
	}
	return q.store.EnqueueWave(ctx, q.clock.now(), tpl, msgs)
}

// BenchmarkReminderWave: the "2h before" reminders of CELLBOT_BENCH_CELLS
// (default 1,000) cells of 51 members whose meetings all start at one hour,
// planned by the scheduler's planner, queued in the wave and sent in simulated
// time through the real queue and rate limiter (the scripts in a real Redis,
// with a simulated clock), as fast as Telegram's overall limit lets one bot.
// At the wave's peak (half of the reminders delivered) the secretary of one
// cell broadcasts to 51 members. CELLBOT_BENCH_PAID=1 sends as
// CELLBOT_PAID_BROADCAST does, at Telegram's paid rate. Metrics:
//
//   - late-%: reminders delivered after their due time;
//   - early-max-min: the earliest delivery, in minutes before its due time;
//   - bytes/msg: Redis memory per message the rounds queued (measured across
//     the scheduler's runs, before any is released);
//   - bcast-wait-s: from the broadcast's enqueue to its last message's send;
//   - msgs: the messages sent (reminders, the groups' counts, the committee's
//     lists, the broadcast).
func BenchmarkReminderWave(b *testing.B) {
	cells := envInt("CELLBOT_BENCH_CELLS", 1000)
	members := envInt("CELLBOT_BENCH_MEMBERS", 51)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		srv := testenv.StartRedis(b)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		store := storage.New(rdb, "")
		start := time.Date(2027, 4, 3, 14, 0, 0, 0, time.UTC)
		due := start.Add(-2 * time.Hour)
		seedCells(b, store, rdb, cells, members, start)
		limits := storage.DefaultRateLimits()
		if os.Getenv("CELLBOT_BENCH_PAID") != "" {
			limits = storage.PaidRateLimits()
		}
		rate := scheduler.WaveShare * float64(time.Second) / float64(limits.Global.Every)
		// The simulation starts when the planner would first have to act, with
		// room to spare: the whole wave at the planner's rate and 5 %, and forty minutes.
		need := time.Duration(float64(cells*(members+2)) / rate * float64(time.Second) * 1.05)
		clock := &simClock{t: due.Add(-need - 40*time.Minute)}
		sched, err := scheduler.New(scheduler.Params{Store: store, Delivery: simQueue{store, clock}, Now: clock.now, Batch: 100, Rate: rate})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r := runWave(b, ctx, rdb, store, sched, clock, limits, due, cells*members, members, cells*(members+2)+members)
		b.StopTimer()
		b.ReportMetric(100*float64(r.late)/float64(r.reminders), "late-%")
		b.ReportMetric(r.earliest.Minutes(), "early-max-min")
		b.ReportMetric(float64(r.queuedBytes)/float64(max(r.queued, 1)), "bytes/msg")
		b.ReportMetric(r.bcastWait.Seconds(), "bcast-wait-s")
		b.ReportMetric(float64(r.sent), "msgs")
		_ = rdb.Close()
	}
}

type waveResult struct {
	reminders, late, sent int
	earliest              time.Duration
	queued, queuedBytes   int64
	bcastWait             time.Duration
}

// runWave plays the scheduler, the planner, the wave's release and one sender
// in simulated time until every reminder was sent.
func runWave(b *testing.B, ctx context.Context, rdb *redis.Client, store *storage.Store, sched *scheduler.Scheduler,
	clock *simClock, limits storage.RateLimits, due time.Time, want, bcastSize, total int) waveResult {
	const (
		planEvery = 5 * time.Second
		pollEvery = 250 * time.Millisecond
		lease     = time.Hour
	)
	var r waveResult
	nextPlan, nextPoll := clock.t, clock.t
	var bcastAt, bcastLast time.Time
	bcastLeft := -1
	seq := 0
	for r.sent < total {
		now := clock.t
		if now.After(due.Add(2 * time.Hour)) {
			b.Fatalf("at the meeting's start %d of %d reminders were sent", r.reminders, want)
		}
		if !now.Before(nextPlan) {
			if err := sched.PlanOnce(ctx); err != nil {
				b.Fatal(err)
			}
			nextPlan = now.Add(planEvery)
		}
		if !now.Before(nextPoll) {
			before := testenv.RedisInfo(b, rdb, "memory", "used_memory")
			d0, err := store.QueueDepth(ctx)
			if err != nil {
				b.Fatal(err)
			}
			done, err := sched.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if done > 0 {
				d1, err := store.QueueDepth(ctx)
				if err != nil {
					b.Fatal(err)
				}
				r.queued += d1.Wave + d1.Ready[0] + d1.Ready[1] - d0.Wave - d0.Ready[0] - d0.Ready[1]
				r.queuedBytes += testenv.RedisInfo(b, rdb, "memory", "used_memory") - before
			}
			nextPoll = now.Add(pollEvery)
		}
		var waveNext time.Time
		for {
			n, next, err := store.ReleaseWave(ctx, now, now, storage.QueueBatch)
			if err != nil {
				b.Fatal(err)
			}
			waveNext = next
			if n < storage.QueueBatch {
				break
			}
		}
		if bcastLeft < 0 && r.reminders >= want/2 {
			bcastAt, bcastLeft = now, bcastSize
			var msgs []storage.QueueEntry
			for m := range bcastLeft {
				chat := int64(2_000_000_000 + m)
				part, _ := json.Marshal(map[string]any{"method": "sendMessage", "params": map[string]string{"chat_id": strconv.FormatInt(chat, 10), "text": "Thông báo"}})
				msgs = append(msgs, storage.QueueEntry{ID: fmt.Sprintf("bcast:%d", m), To: storage.QueueRecipient{ChatID: chat},
					Purpose: "broadcast", Priority: storage.PriorityBulk, Parts: []json.RawMessage{part}, JobID: ""})
			}
			if _, err := store.Enqueue(ctx, now, msgs); err != nil {
				b.Fatal(err)
			}
		}
		seq++
		e, next, err := store.Claim(ctx, now, lease, strconv.Itoa(seq))
		if err != nil {
			b.Fatal(err)
		}
		if e == nil {
			// Nothing to send: on to the next thing that happens.
			at := minTime(nextPlan, nextPoll, next, waveNext)
			if !at.After(now) {
				at = now.Add(time.Millisecond)
			}
			clock.t = at
			continue
		}
		for {
			wait, ok, err := store.Reserve(ctx, clock.t, e.To.ChatID, limits, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			clock.t = clock.t.Add(wait)
			if ok {
				break
			}
		}
		sentAt := clock.t
		r.sent++
		switch {
		case e.Template != "":
			r.reminders++
			if sentAt.After(due) {
				r.late++
				if r.late == 1 || r.late%50 == 0 {
					d, _ := store.QueueDepth(ctx)
					b.Logf("late %d: %s sent %v after due, released %v; depth %+v", r.late, e.ID, sentAt.Sub(due), e.NotBefore.Sub(due), d)
				}
			}
			r.earliest = max(r.earliest, due.Sub(sentAt))
		case e.Purpose == "broadcast":
			bcastLeft--
			bcastLast = sentAt
		}
		if _, err := store.Done(ctx, clock.t, e.ID, e.Token, storage.ResultSent, time.Second); err != nil {
			b.Fatal(err)
		}
	}
	r.bcastWait = bcastLast.Sub(bcastAt)
	return r
}

func minTime(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}
