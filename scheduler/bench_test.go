package scheduler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// noTelegram is a Caller that is never called: the benchmarks only queue.
type noTelegram struct{}

func (noTelegram) Do(context.Context, telegram.Request, any) error {
	return errors.New("no Telegram in this benchmark")
}

// seedCells makes cells of members linked to Telegram accounts, each with a
// meeting at start whose "2h" reminder is due at start-2h, writing the roster
// keys directly (import through the bot is not what is measured).
func seedCells(b testing.TB, store *storage.Store, rdb *redis.Client, cells, members int, start time.Time) {
	b.Helper()
	ctx := context.Background()
	k := store.Keys()
	var items []storage.DueItem
	for i := range cells {
		c, _, err := store.CreateCell(ctx, cell.Cell{Name: fmt.Sprintf("Chi bộ %d", i), ChatID: -int64(1000000 + i), TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"},
			cell.Member{Name: "Bí thư", UserID: int64(1_000_000_000 + i*100)})
		if err != nil {
			b.Fatal(err)
		}
		_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := 2; j <= members; j++ {
				m := cell.Member{ID: int64(j), Name: fmt.Sprintf("Đảng viên %d", j), UserID: int64(1_000_000_000 + i*100 + j),
					Standing: cell.Official, Participation: cell.Regular}
				data, _ := json.Marshal(m)
				p.HSet(ctx, k.Members(c.ID), strconv.Itoa(j), data)
				p.HSet(ctx, k.Users(c.ID), strconv.FormatInt(m.UserID, 10), j)
			}
			p.Set(ctx, k.MemberSeq(c.ID), members, 0)
			p.HSet(ctx, k.Cell(c.ID), "quiet", "00:00-00:00")
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		m, _, err := store.CreateMeeting(ctx, "bench", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: start})
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, storage.DueItem{Kind: storage.DueRemind, CellID: c.ID, MeetingID: m.ID, Arg: 7200, Version: m.Version, At: start.Add(-2 * time.Hour)})
	}
	if err := store.ScheduleDue(ctx, items...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRemindersSameMinute: the "2h before" reminders of many cells whose
// meetings start in the same minute, claimed and handed to the delivery queue by
// one scheduler. CELLBOT_BENCH_CELLS (default 1,000) and CELLBOT_BENCH_MEMBERS
// (default 51) set the size; the figures are for the whole wave.
func BenchmarkRemindersSameMinute(b *testing.B) {
	cells := envInt("CELLBOT_BENCH_CELLS", 1000)
	members := envInt("CELLBOT_BENCH_MEMBERS", 51)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		srv := testenv.StartRedis(b)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		store := storage.New(rdb, "")
		start := time.Date(2027, 4, 3, 14, 0, 0, 0, time.UTC)
		seedCells(b, store, rdb, cells, members, start)
		sender, err := delivery.NewSender(delivery.SenderParams{Store: store, Caller: noTelegram{}})
		if err != nil {
			b.Fatal(err)
		}
		now := start.Add(-2 * time.Hour)
		sched, err := scheduler.New(scheduler.Params{Store: store, Delivery: sender, Now: func() time.Time { return now }, Batch: 100})
		if err != nil {
			b.Fatal(err)
		}
		cmds := testenv.RedisInfo(b, rdb, "stats", "total_commands_processed")
		mem := testenv.RedisInfo(b, rdb, "memory", "used_memory")
		began := time.Now()
		b.StartTimer()
		// Each round, then the item that posts its counts.
		done := 0
		for {
			n, err := sched.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			done += n
		}
		b.StopTimer()
		took := time.Since(began)
		if done != 2*cells {
			b.Fatalf("did %d items for %d reminders", done, cells)
		}
		depth, err := store.QueueDepth(ctx)
		if err != nil {
			b.Fatal(err)
		}
		msgs := depth.Ready[0] + depth.Ready[1] + depth.Wave
		if want := int64(cells * (members + 2)); msgs != want {
			b.Fatalf("%d messages queued, want %d (members, the group, the secretary's list)", msgs, want)
		}
		cmdsAfter := testenv.RedisInfo(b, rdb, "stats", "total_commands_processed")
		memAfter := testenv.RedisInfo(b, rdb, "memory", "used_memory")
		b.ReportMetric(took.Seconds(), "s/wave")
		b.ReportMetric(float64(cmdsAfter-cmds)/float64(cells), "redis-cmds/reminder")
		b.ReportMetric(float64(memAfter-mem)/float64(msgs), "bytes/queued-msg")
		b.ReportMetric(float64(memAfter-mem)/(1<<20), "MB-queued")
		b.ReportMetric(float64(msgs)/took.Seconds(), "msgs-queued/s")
		_ = rdb.Close()
	}
}

// BenchmarkReminderWaveSimulated: in simulated time, when the last of the "2h
// before" reminders of CELLBOT_BENCH_CELLS (default 1,000) cells of 51 members
// reaches its member, sent in deadline order at Telegram's 30 messages a second
// through the real rate limiter (the GCRA script in Redis, with a simulated clock).
func BenchmarkReminderWaveSimulated(b *testing.B) {
	cells := envInt("CELLBOT_BENCH_CELLS", 1000)
	members := envInt("CELLBOT_BENCH_MEMBERS", 51)
	ctx := context.Background()
	srv := testenv.StartRedis(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	limits := storage.DefaultRateLimits()
	for i := range b.N {
		store := storage.New(rdb, fmt.Sprintf("sim%d", i))
		due := time.Date(2027, 4, 3, 12, 0, 0, 0, time.UTC)
		now := due
		var last time.Time
		for c := range cells {
			chats := make([]int64, 0, members+1)
			for m := range members {
				chats = append(chats, int64(1_000_000_000+c*100+m))
			}
			chats = append(chats, -int64(1000000+c)) // the group's counts
			for _, chat := range chats {
				for {
					wait, ok, err := store.Reserve(ctx, now, chat, limits, time.Hour)
					if err != nil {
						b.Fatal(err)
					}
					if ok {
						last = now.Add(wait)
						now = last
						break
					}
					now = now.Add(wait)
				}
			}
		}
		total := cells * (members + 1)
		b.ReportMetric(last.Sub(due).Minutes(), "min-to-last")
		b.ReportMetric(float64(total)/last.Sub(due).Seconds(), "msgs/s")
	}
}
