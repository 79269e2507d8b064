package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// answerClock records when each callback query was answered.
type answerClock struct {
	nullTelegram
	mu sync.Mutex
	at map[string]time.Time
}

func (a *answerClock) Do(ctx context.Context, req telegram.Request, result any) error {
	if q, ok := req.(telegram.AnswerCallbackQuery); ok {
		a.mu.Lock()
		if _, seen := a.at[q.ID]; !seen {
			a.at[q.ID] = time.Now()
		}
		a.mu.Unlock()
	}
	return a.nullTelegram.Do(ctx, req, result)
}

// roundTrips counts the client's round trips to Redis: a command or a
// pipeline sent on its own.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// pressStats runs presses all at once through press and reports throughput,
// press→answerCallbackQuery median and 99th percentile, and Redis round trips
// and commands (those run inside scripts too) a press.
func pressStats(b *testing.B, name string, rdb *redis.Client, trips *roundTrips, round, n int, ac *answerClock, press func(i int) error) {
	b.Helper()
	cmdsBefore := commandsProcessed(b, rdb)
	tripsBefore := trips.n.Load()
	ac.mu.Lock()
	ac.at = make(map[string]time.Time, n)
	ac.mu.Unlock()
	starts := make([]time.Time, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			starts[i] = time.Now()
			if err := press(i); err != nil {
				b.Error(err)
			}
		})
	}
	began := time.Now()
	close(gate)
	wg.Wait()
	took := time.Since(began)
	rts := trips.n.Load() - tripsBefore
	cmds := commandsProcessed(b, rdb) - cmdsBefore
	lat := make([]time.Duration, 0, n)
	ac.mu.Lock()
	for i := range n {
		at, ok := ac.at[queryID(round, i)]
		if !ok {
			b.Fatalf("%s: press %d was not answered", name, i)
		}
		lat = append(lat, at.Sub(starts[i]))
	}
	ac.mu.Unlock()
	slices.Sort(lat)
	b.ReportMetric(float64(n)/took.Seconds(), name+"-presses/s")
	b.ReportMetric(float64(lat[n/2].Microseconds())/1000, name+"-p50-ms")
	b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, name+"-p99-ms")
	b.ReportMetric(float64(rts)/float64(n), name+"-round-trips/press")
	b.ReportMetric(float64(cmds)/float64(n), name+"-redis-cmds/press")
}

// queryID is press i's callback query id in a round: a press answered in an
// earlier round is not answered again, so each round has ids of its own.
func queryID(round, i int) string { return "q" + strconv.Itoa(round) + "-" + strconv.Itoa(i) }

func commandsProcessed(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	info, err := rdb.Info(context.Background(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkPresses1000 is 1,000 members pressing "✅ Tham dự" at once on a real
// Redis, through the whole bot: the update claimed and the sender's cell and
// record read (one round trip), the answer checked and stored and the group's
// counts marked (one), the member's message edited, the update recorded as
// handled (one). Beside it, in the same run, a minimal peer: a bot
// that answers each press after one HSET and one HGETALL. Telegram answers at
// once, so the figures are the bot's own. The scripts are loaded first, as the
// bot does on start (storage.Store.LoadScripts).
func BenchmarkPresses1000(b *testing.B) {
	const n = 1000
	srv := testenv.StartRedis(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 64})
	defer rdb.Close()
	trips := &roundTrips{}
	rdb.AddHook(trips)
	store := storage.New(rdb, "")
	ctx := context.Background()
	if err := store.LoadScripts(ctx); err != nil { // as the bot does on start
		b.Fatal(err)
	}
	c, _, err := store.CreateCell(ctx, cell.Cell{Name: "Chi bộ 3", ChatID: -100, TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"},
		cell.Member{Name: "Nguyễn Thị Lan", UserID: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	k := store.Keys()
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n {
			id := int64(i + 2)
			m := cell.Member{ID: id, Name: fmt.Sprintf("Đảng viên %04d", i), UserID: int64(2_000_000 + i), Standing: cell.Official, Participation: cell.Regular}
			data, _ := json.Marshal(m)
			p.HSet(ctx, k.Members(c.ID), strconv.FormatInt(id, 10), data)
			p.HSet(ctx, k.Users(c.ID), strconv.FormatInt(m.UserID, 10), id)
			p.HSet(ctx, k.User(m.UserID), "cell", c.ID)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	m, _, err := store.CreateMeeting(ctx, "bench", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: time.Now().Add(48 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	ac := &answerClock{}
	bot := New(Params{Store: store, Telegram: ac, Delivery: nullDelivery{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BotUsername: "cellbot_test_bot"})
	data := scheduler.RSVPData(c.ID, m.ID, scheduler.RSVPComing)
	for round := range b.N {
		pressStats(b, "cellbot", rdb, trips, round, n, ac, func(i int) error {
			uid := int64(2_000_000 + i)
			u := telegram.Update{UpdateID: round*n + i + 1, CallbackQuery: &telegram.CallbackQuery{
				ID: queryID(round, i), From: telegram.User{ID: uid, FirstName: "ĐV"}, Data: data,
				Message: &telegram.Message{MessageID: 10 + i, Chat: telegram.Chat{ID: uid, Type: telegram.ChatPrivate}, Text: "Thông báo"},
			}}
			bot.Arrived(ctx, u) // as the poller and the webhook do on receipt
			return bot.HandleUpdate(ctx, u)
		})
		peerKey := fmt.Sprintf("peer:%d:answers", round)
		pressStats(b, "peer", rdb, trips, round, n, ac, func(i int) error {
			if err := rdb.HSet(ctx, peerKey, strconv.Itoa(i), "coming").Err(); err != nil {
				return err
			}
			if err := rdb.HGetAll(ctx, peerKey).Err(); err != nil {
				return err
			}
			return ac.Do(ctx, telegram.AnswerCallbackQuery{ID: queryID(round, i)}, nil)
		})
	}
	got, err := store.Answers(ctx, c.ID, m.ID)
	if err != nil || len(got) != n {
		b.Fatalf("%d answers stored, want %d: %v", len(got), n, err)
	}
}
