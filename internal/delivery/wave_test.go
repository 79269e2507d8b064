package delivery_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// TestDeliveryReleasesTheWave: a round's reminders wait in the wave until
// their time, then reach each member's own chat with the round's one text and
// buttons; one the Wanted check turns down is completed as skipped, unsent.
func TestDeliveryReleasesTheWave(t *testing.T) {
	env := newTestEnv(t)
	us := members(env.srv, 3)
	var mu sync.Mutex
	results := map[string]storage.QueueResult{}
	s := env.sender(t, delivery.SenderParams{
		ReleaseEvery: 20 * time.Millisecond,
		Wanted:       func(_ context.Context, e *storage.QueueEntry) bool { return e.To.ChatID != us[2].ID() },
		Completed: func(_ context.Context, id, _ string, r storage.QueueResult) {
			mu.Lock()
			defer mu.Unlock()
			results[id] = r
		},
	})
	kb := &telegram.InlineKeyboardMarkup{InlineKeyboard: [][]telegram.InlineKeyboardButton{{{Text: "✅ Có mặt", CallbackData: "rsvp:1:1:yes"}}}}
	tpl := delivery.WaveTemplate{ID: "remind:1:1:1:7200:vi", CellID: 1, Purpose: "reminder",
		Parts: delivery.TextParts(0, []string{"Nhắc họp lúc 14:00 hôm nay"}, kb)}
	msgs := []storage.WaveMessage{
		{MemberID: 1, ChatID: us[0].ID()},
		{MemberID: 2, ChatID: us[1].ID(), After: 300 * time.Millisecond},
		{MemberID: 3, ChatID: us[2].ID()},
	}
	queued := time.Now()
	if n, err := s.EnqueueWave(context.Background(), tpl, msgs); err != nil || n != 3 {
		t.Fatalf("enqueue wave = %d, %v", n, err)
	}
	for _, u := range us[:2] {
		got := u.WaitMessage("Nhắc họp")
		if got.Text != "Nhắc họp lúc 14:00 hôm nay" || len(got.Buttons) == 0 {
			t.Errorf("member got %+v; want the round's text with its buttons", got)
		}
	}
	if took := time.Since(queued); took < 300*time.Millisecond {
		t.Errorf("the second reminder came %v after it was queued; it was planned 300 ms after", took)
	}
	waitFor(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(results) == 3
	})
	if got := us[2].Messages(); len(got) != 0 {
		t.Errorf("the member no longer to be reminded got %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]storage.QueueResult{"remind:1:1:1:7200:vi:1": storage.ResultSent, "remind:1:1:1:7200:vi:2": storage.ResultSent,
		"remind:1:1:1:7200:vi:3": storage.ResultSkipped}
	for id, r := range want {
		if results[id] != r {
			t.Errorf("%s ended %q; want %q (all: %v)", id, results[id], r, results)
		}
	}
}
