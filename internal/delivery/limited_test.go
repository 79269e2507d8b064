package delivery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// The wait for a slot is bounded in all: a send that already waited for the
// chat's slot does not wait again for a 429's retry_after beyond MaxWait; and a
// caller's WithMaxWait(0) fails at once instead of waiting.
func TestDirectWaitBoundedInAll(t *testing.T) {
	env := newTestEnv(t)
	limits := storage.DefaultRateLimits()
	// A chat's pace of 2 s: the second send finds the chat busy however slow
	// the machine is after the first.
	limits.Private = storage.RateLimit{Every: 2 * time.Second, Burst: 1}
	sender, err := delivery.NewSender(delivery.SenderParams{Store: env.store, Caller: env.bot, Limits: limits, DirectMaxWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l := sender.Direct()
	u := members(env.srv, 1)[0]
	ctx := context.Background()
	if err := l.Do(ctx, telegram.SendMessage{ChatID: u.ID(), Text: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := sender.Immediate().Do(ctx, telegram.SendMessage{ChatID: u.ID(), Text: "b"}, nil); !errors.Is(err, delivery.ErrRateLimited) {
		t.Errorf("send through Immediate to a busy chat: %v, want ErrRateLimited", err)
	}
	// This send waits about 2 s for its slot, then gets a 429 asking for 2 s
	// more: past the 3 s in all, so it gives up instead of trying again.
	env.srv.FailNext("sendMessage", 429, "Too Many Requests: retry after 2")
	err = l.Do(ctx, telegram.SendMessage{ChatID: u.ID(), Text: "c"}, nil)
	if _, is429 := telegram.RetryAfter(err); !is429 && !errors.Is(err, delivery.ErrRateLimited) {
		t.Errorf("send after a wait and a 429: %v, want the 429 or ErrRateLimited", err)
	}
	if n := len(env.srv.Requests("sendMessage")); n != 2 {
		t.Errorf("sendMessage called %d times, want 2 (no retry past the bound)", n)
	}
}
