package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// reservation is one Reserve call and what it should answer.
type reservation struct {
	at   time.Duration // after queueT0
	chat int64
	wait time.Duration
	ok   bool
}

// rateLimits are Telegram's limits in round figures (DefaultRateLimits gives
// private chats a margin).
func rateLimits() storage.RateLimits {
	return storage.RateLimits{
		Global:      storage.RateLimit{Every: time.Second / 30, Burst: 1},
		Private:     storage.RateLimit{Every: time.Second, Burst: 3},
		Group:       storage.RateLimit{Every: 3 * time.Second, Burst: 3},
		FloodChats:  5,
		FloodWindow: time.Second,
	}
}

func TestRateReserve(t *testing.T) {
	const ms = time.Millisecond
	limits := rateLimits()
	tests := []struct {
		name    string
		maxWait time.Duration
		calls   []reservation
	}{
		{
			// No burst on the global limit: sends to different chats are evenly
			// spaced by 1/30 s.
			name:    "global evenly spaced",
			maxWait: time.Second,
			calls: []reservation{
				{chat: 1, wait: 0, ok: true},
				{chat: 2, wait: 33333 * time.Microsecond, ok: true},
				{chat: 3, wait: 66666 * time.Microsecond, ok: true},
				{at: 100 * ms, chat: 4, wait: 0, ok: true}, // caught up
				{at: 100 * ms, chat: 5, wait: 33333 * time.Microsecond, ok: true},
			},
		},
		{
			// A wait beyond maxWait reserves nothing: asking again gets the same.
			name:    "long wait refused without reserving",
			maxWait: 50 * ms,
			calls: []reservation{
				{chat: 1, wait: 0, ok: true},
				{chat: 2, wait: 33333 * time.Microsecond, ok: true},
				{chat: 3, wait: 66666 * time.Microsecond, ok: false},
				{chat: 3, wait: 66666 * time.Microsecond, ok: false},
				{at: 70 * ms, chat: 3, wait: 0, ok: true},
			},
		},
		{
			// One a second per private chat with bursts of 3. A chat that must
			// wait longer than the global limit reserves nothing (it would hold
			// back the other chats): it asks again later.
			name:    "private chat burst then one a second",
			maxWait: 5 * time.Second,
			calls: []reservation{
				{chat: 7, wait: 0, ok: true},
				{at: 40 * ms, chat: 7, wait: 0, ok: true},
				{at: 80 * ms, chat: 7, wait: 0, ok: true},
				{at: 120 * ms, chat: 7, wait: 880 * ms, ok: false},
				{at: 120 * ms, chat: 8, wait: 0, ok: true}, // the global limit was not held
				{at: 1000 * ms, chat: 7, wait: 0, ok: true},
				{at: 1000 * ms, chat: 7, wait: time.Second, ok: false},
			},
		},
		{
			// 20 a minute per group: bursts of 3, then one every 3 s.
			name:    "group",
			maxWait: 10 * time.Second,
			calls: []reservation{
				{chat: -100, ok: true},
				{at: 100 * ms, chat: -100, ok: true},
				{at: 200 * ms, chat: -100, ok: true},
				{at: 300 * ms, chat: -100, wait: 2700 * ms, ok: false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newQueueStore(t)
			var got []reservation
			for _, c := range tt.calls {
				wait, ok, err := s.Reserve(context.Background(), queueT0.Add(c.at), c.chat, limits, tt.maxWait)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, reservation{at: c.at, chat: c.chat, wait: wait, ok: ok})
			}
			if diff := cmp.Diff(tt.calls, got, cmp.AllowUnexported(reservation{})); diff != "" {
				t.Errorf("reservations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRatePauseChat(t *testing.T) {
	ctx := context.Background()
	s, _ := newQueueStore(t)
	limits := rateLimits()
	limits.FloodChats = 3
	// A 429 with retry_after 5 s on chat 1 pauses chat 1 only.
	global, err := s.PauseChat(ctx, queueT0, 1, 5*time.Second, limits)
	if err != nil || global {
		t.Fatalf("pause = %v, %v; want chat only", global, err)
	}
	if wait, ok, _ := s.Reserve(ctx, queueT0, 1, limits, 2*time.Second); ok || wait != 5*time.Second {
		t.Errorf("paused chat: wait %v ok %v; want refused, 5s", wait, ok)
	}
	if wait, ok, _ := s.Reserve(ctx, queueT0, 2, limits, 2*time.Second); !ok || wait != 0 {
		t.Errorf("other chat: wait %v ok %v; want 0", wait, ok)
	}
	// After the pause the chat sends one at a time, not a burst.
	if wait, ok, _ := s.Reserve(ctx, queueT0.Add(5*time.Second), 1, limits, 2*time.Second); !ok || wait != 0 {
		t.Errorf("after the pause: wait %v ok %v; want 0", wait, ok)
	}
	if wait, ok, _ := s.Reserve(ctx, queueT0.Add(5*time.Second), 1, limits, 2*time.Second); ok || wait != time.Second {
		t.Errorf("second send after the pause: wait %v ok %v; want 1s, not reserved", wait, ok)
	}
	// 429s from three chats within a second pause the global limit.
	for _, chat := range []int64{2, 3, 4} {
		global, err = s.PauseChat(ctx, queueT0.Add(6*time.Second), chat, time.Second, limits)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !global {
		t.Fatal("429s from three chats did not pause the global limit")
	}
	if wait, ok, _ := s.Reserve(ctx, queueT0.Add(6*time.Second), 99, limits, 2*time.Second); !ok || wait != time.Second {
		t.Errorf("fresh chat under a global pause: wait %v ok %v; want 1s", wait, ok)
	}
}

// TestRateOnRedisClock: with the zero now, as delivery passes it,
// slots are reserved on Redis's clock: the global TAT is one interval after
// Redis's now, and the next send waits about one interval whatever the
// caller's clock says.
func TestRateOnRedisClock(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	limits := storage.DefaultRateLimits()
	// A global interval of a second: the second reserve must find the first
	// one's slot still taken, however slow the machine is between the two.
	limits.Global = storage.RateLimit{Every: time.Second, Burst: 1}
	var redisClock time.Time
	before := rdb.Time(ctx).Val()
	if wait, ok, err := s.Reserve(ctx, redisClock, 5, limits, time.Second); err != nil || !ok || wait != 0 {
		t.Fatalf("first reserve = %v, %v, %v", wait, ok, err)
	}
	tat, err := rdb.Get(ctx, s.Keys().RateGlobal()).Int64()
	if err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMicro(tat).Sub(before); got < limits.Global.Every || got > limits.Global.Every+2*time.Second {
		t.Errorf("global TAT %v after Redis's now, want about %v", got, limits.Global.Every)
	}
	wait, ok, err := s.Reserve(ctx, redisClock, 6, limits, 2*time.Second)
	if err != nil || !ok || wait <= 0 || wait > limits.Global.Every {
		t.Errorf("second reserve = %v, %v, %v; want a wait within one interval", wait, ok, err)
	}
	if _, err := s.PauseChat(ctx, redisClock, 5, time.Minute, limits); err != nil {
		t.Fatal(err)
	}
	if wait, ok, _ := s.Reserve(ctx, redisClock, 5, limits, time.Hour); ok || wait < 59*time.Second {
		t.Errorf("reserve in a paused chat = %v, %v; want about a minute's wait", wait, ok)
	}
}
