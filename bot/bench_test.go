package bot

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// nullTelegram answers every call at once, so that a benchmark measures the bot's
// own work: its Redis round trips, decoding and rendering.
type nullTelegram struct{ calls atomic.Int64 }

func (n *nullTelegram) Do(_ context.Context, _ telegram.Request, result any) error {
	n.calls.Add(1)
	if result != nil {
		return json.Unmarshal([]byte(`{"message_id":1,"chat":{"id":1,"type":"private"}}`), result)
	}
	return nil
}

type nullDelivery struct{}

func (nullDelivery) StartJob(context.Context, storage.QueueJob, []delivery.Message) (int, error) {
	return 0, nil
}
func (nullDelivery) Enqueue(context.Context, ...delivery.Message) (int, error) { return 0, nil }

// BenchmarkHandleUpdate measures one update through the whole middleware (claim,
// actor, route, handler, done) on a real Redis with the 74-member roster, with
// Telegram answering instantly.
func BenchmarkHandleUpdate(b *testing.B) {
	rdb, prefix := testenv.RedisEnv(b)
	store := storage.New(rdb, prefix)
	ctx := context.Background()
	const secretary = 100
	c, _, err := store.CreateCell(ctx, cell.Cell{Name: "Chi bộ 3", ChatID: -100, TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi", Quiet: cell.DefaultQuiet},
		cell.Member{Name: "Nguyễn Thị Lan", UserID: secretary})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../internal/app/testdata/roster74.csv")
	if err != nil {
		b.Fatal(err)
	}
	roster, err := cell.ParseRoster(data)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.ImportMembers(ctx, c.ID, roster); err != nil {
		b.Fatal(err)
	}
	tg := &nullTelegram{}
	// One user's updates in a loop: counted as any, never past the limit.
	flood := storage.FloodLimit{Updates: math.MaxInt32, Window: 10 * time.Second, Mute: time.Minute}
	bot := New(Params{Store: store, Telegram: tg, Delivery: nullDelivery{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BotUsername: "cellbot_test_bot", Flood: flood})
	for _, bc := range []struct{ name, text string }{
		{"help", "/help"},
		{"members", "/members"},
		{"exempt", "/exempt Trần Văn Bình ốm"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				id := int(updateSeq.Add(1))
				u := telegram.Update{UpdateID: id, Message: &telegram.Message{
					MessageID: id, From: &telegram.User{ID: secretary, FirstName: "Lan"},
					Chat: telegram.Chat{ID: secretary, Type: telegram.ChatPrivate}, Text: bc.text,
				}}
				if err := bot.HandleUpdate(ctx, u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// updateSeq keeps update ids unique across sub-benchmarks and their rounds.
var updateSeq atomic.Int64
