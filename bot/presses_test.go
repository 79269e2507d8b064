package bot

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
)

// answers records the callback queries answered.
type answers struct {
	mu  sync.Mutex
	ids []string
}

func (a *answers) Do(_ context.Context, req telegram.Request, _ any) error {
	if q, ok := req.(telegram.AnswerCallbackQuery); ok {
		a.mu.Lock()
		a.ids = append(a.ids, q.ID)
		a.mu.Unlock()
	}
	return nil
}

func (a *answers) count(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, x := range a.ids {
		if x == id {
			n++
		}
	}
	return n
}

// TestPressAnsweredOnce: a press whose handler does not answer in time (it waits
// behind its chat's earlier updates) is answered by the arrival timer; one whose
// handler answers first is not answered again; each is answered once.
func TestPressAnsweredOnce(t *testing.T) {
	tg := &answers{}
	b := New(Params{Telegram: tg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	press := func(id string) telegram.Update {
		return telegram.Update{UpdateID: 1, CallbackQuery: &telegram.CallbackQuery{ID: id, From: telegram.User{ID: 5}}}
	}
	b.Arrived(context.Background(), press("slow"))
	deadline := time.Now().Add(10 * time.Second)
	for tg.count("slow") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a press nobody answered was not answered by the timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := &request{ctx: context.Background(), b: b, log: b.p.Logger, cb: press("slow").CallbackQuery}
	r.answerCallback("too late", true)
	if n := tg.count("slow"); n != 1 {
		t.Errorf("slow press answered %d times, want 1", n)
	}

	b.Arrived(context.Background(), press("quick"))
	r = &request{ctx: context.Background(), b: b, log: b.p.Logger, cb: press("quick").CallbackQuery}
	r.answerCallback("done", false)
	b.presses.forget("quick")
	if n := tg.count("quick"); n != 1 {
		t.Errorf("quick press answered %d times, want 1", n)
	}
	b.presses.mu.Lock()
	left := len(b.presses.m)
	b.presses.mu.Unlock()
	if left != 1 { // "slow" is forgotten only when its handler finishes
		t.Errorf("%d presses remembered, want 1", left)
	}
}
