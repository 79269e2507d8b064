package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeUpdates answers getUpdates from a list of raw updates, dropping those below
// the offset as Telegram does, and records every offset it was sent.
type fakeUpdates struct {
	mu      sync.Mutex
	queue   []json.RawMessage
	ids     []int
	offsets []int
	changed chan struct{}
}

func newFakeUpdates() *fakeUpdates { return &fakeUpdates{changed: make(chan struct{})} }

func (f *fakeUpdates) add(id int, raw string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, json.RawMessage(raw))
	f.ids = append(f.ids, id)
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeUpdates) message(id int, chat int64, text string) {
	f.add(id, fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"first_name":"A"},"text":%q}}`, id, id, chat, chat, text))
}

// lastOffset is the newest offset sent (the confirmed position).
func (f *fakeUpdates) lastOffset() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.offsets) == 0 {
		return 0
	}
	return f.offsets[len(f.offsets)-1]
}

func (f *fakeUpdates) Do(ctx context.Context, req Request, result any) error {
	if req.Method() != "getUpdates" {
		return nil
	}
	offset, _ := strconv.Atoi(req.Params()["offset"])
	timeout, _ := strconv.Atoi(req.Params()["timeout"])
	deadline := time.After(time.Duration(timeout) * time.Second)
	for {
		f.mu.Lock()
		f.offsets = append(f.offsets, offset)
		keepQ, keepI := f.queue[:0:0], f.ids[:0:0]
		for i, id := range f.ids {
			if id >= offset {
				keepQ, keepI = append(keepQ, f.queue[i]), append(keepI, id)
			}
		}
		f.queue, f.ids = keepQ, keepI
		out := append([]json.RawMessage(nil), f.queue...)
		ch := f.changed
		f.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			if result != nil {
				b, _ := json.Marshal(out)
				return json.Unmarshal(b, result)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			timeout = 0
		case <-ch:
		}
	}
}

// waitFor waits for cond with a deadline, polling.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPollerLanes: a slow update holds back only its own chat; each chat's
// updates are handled in order; the confirmed offset stays at the oldest update
// not finished; an undecodable update is skipped.
func TestPollerLanes(t *testing.T) {
	f := newFakeUpdates()
	release := make(chan struct{})
	var mu sync.Mutex
	handled := map[int64][]int{}
	handle := func(ctx context.Context, u Update) error {
		if u.Message.Text == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		mu.Lock()
		handled[u.ChatID()] = append(handled[u.ChatID()], u.UpdateID)
		mu.Unlock()
		return nil
	}
	got := func(chat int64) []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), handled[chat]...)
	}
	p := NewPoller(PollerParams{Caller: f, Handler: handle, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Timeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	f.message(10, 1, "slow")
	f.message(11, 1, "after the slow one")
	f.message(12, 2, "b1")
	f.add(13, `{"update_id":13,"message":{"message_id":"x","date":1,"chat":{"id":2,"type":"private"}}}`)
	f.message(14, 2, "b2")
	waitFor(t, "chat 2's updates", func() bool { return len(got(2)) == 2 })
	if g := got(2); g[0] != 12 || g[1] != 14 {
		t.Errorf("chat 2 handled %v, want [12 14]", g)
	}
	if g := got(1); len(g) != 0 {
		t.Errorf("chat 1 handled %v while its first update was still running", g)
	}
	f.message(15, 3, "c1")
	waitFor(t, "chat 3's update while chat 1 is slow", func() bool { return len(got(3)) == 1 })
	if off := f.lastOffset(); off != 10 {
		t.Errorf("offset sent while update 10 runs = %d, want 10", off)
	}

	close(release)
	waitFor(t, "chat 1's updates", func() bool { return len(got(1)) == 2 })
	if g := got(1); g[0] != 10 || g[1] != 11 {
		t.Errorf("chat 1 handled %v, want [10 11]", g)
	}
	waitFor(t, "the offset past every update", func() bool { return f.lastOffset() == 16 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for chat, ids := range map[int64][]int{1: got(1), 2: got(2), 3: got(3)} {
		seen := map[int]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("chat %d: update %d handled twice", chat, id)
			}
			seen[id] = true
		}
	}
}

// TestPollerShutdownLeavesCutOffUpdates: an update whose handler the grace
// period cut off is not confirmed at shutdown, so it comes again; one that
// failed is tried again, in order, before its chat's next.
func TestPollerShutdownLeavesCutOffUpdates(t *testing.T) {
	f := newFakeUpdates()
	var mu sync.Mutex
	var calls []int
	started := make(chan struct{}, 1)
	handle := func(ctx context.Context, u Update) error {
		mu.Lock()
		calls = append(calls, u.UpdateID)
		n := len(calls)
		mu.Unlock()
		switch {
		case u.UpdateID == 20 && n == 1:
			return fmt.Errorf("redis down")
		case u.UpdateID == 22:
			started <- struct{}{}
			<-ctx.Done() // never finishes on its own
			return ctx.Err()
		}
		return nil
	}
	p := NewPoller(PollerParams{Caller: f, Handler: handle, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Timeout: time.Second, Grace: 50 * time.Millisecond, Retry: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	f.message(20, 1, "fails once")
	f.message(21, 1, "next")
	waitFor(t, "both updates", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 3 })
	mu.Lock()
	if fmt.Sprint(calls) != "[20 20 21]" {
		t.Errorf("calls = %v, want [20 20 21]", calls)
	}
	mu.Unlock()
	f.message(22, 2, "cut off")
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if off := f.lastOffset(); off != 22 {
		t.Errorf("offset confirmed at shutdown = %d, want 22 (the cut-off update comes again)", off)
	}
}

// TestWebhookCloseWaitsForHandlers: Close stops taking updates and returns only
// once the handlers in hand returned, their context cancelled after the grace.
func TestWebhookCloseWaitsForHandlers(t *testing.T) {
	started := make(chan struct{})
	var mu sync.Mutex
	finished := false
	h := NewWebhook(WebhookParams{Secret: "s", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Grace: 50 * time.Millisecond,
		Handler: func(ctx context.Context, u Update) error {
			close(started)
			<-ctx.Done()
			mu.Lock()
			finished = true
			mu.Unlock()
			return ctx.Err()
		}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}`))
		req.Header.Set(SecretHeader, "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	codes := make(chan int, 1)
	go func() { codes <- post() }()
	<-started
	h.Close()
	mu.Lock()
	if !finished {
		t.Error("Close returned before the handler in hand")
	}
	mu.Unlock()
	if c := <-codes; c != http.StatusServiceUnavailable {
		t.Errorf("cut-off update answered %d, want 503 (it comes again)", c)
	}
	if c := post(); c != http.StatusServiceUnavailable {
		t.Errorf("update after Close answered %d, want 503", c)
	}
}

// TestPollerDropsOnArrivalAndTellsWhatWaits: an update Arrived refuses holds no
// lane and no offset, however many come; a handler learns whether more of its
// chat's updates wait behind it.
func TestPollerDropsOnArrivalAndTellsWhatWaits(t *testing.T) {
	f := newFakeUpdates()
	const flooder = 9
	release := make(chan struct{})
	var mu sync.Mutex
	handled := map[int]bool{}  // update id → MoreWaiting as its handler ended
	arrived := map[int64]int{} // chat → updates that arrived
	handle := func(ctx context.Context, u Update) error {
		if u.Message.Text == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		mu.Lock()
		handled[u.UpdateID] = MoreWaiting(ctx)
		mu.Unlock()
		return nil
	}
	p := NewPoller(PollerParams{Caller: f, Handler: handle, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Timeout: time.Second,
		Arrived: func(_ context.Context, u Update) bool {
			mu.Lock()
			defer mu.Unlock()
			arrived[u.ChatID()]++
			return u.ChatID() != flooder
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	for id := 1; id <= 250; id++ {
		f.message(id, flooder, "spam")
	}
	waitFor(t, "the offset past the dropped updates", func() bool { return f.lastOffset() == 251 })
	f.message(251, 1, "slow")
	waitFor(t, "the slow update in hand", func() bool { mu.Lock(); defer mu.Unlock(); return arrived[1] == 1 })
	f.message(252, 1, "next")
	waitFor(t, "the next update", func() bool { mu.Lock(); defer mu.Unlock(); return arrived[1] == 2 })
	close(release)
	waitFor(t, "chat 1's updates", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for id := range handled {
		if id <= 250 {
			t.Errorf("dropped update %d was handled", id)
		}
	}
	if arrived[flooder] != 250 {
		t.Errorf("%d of the flooder's updates arrived, want 250", arrived[flooder])
	}
	if more, ok := handled[251]; !ok || !more {
		t.Errorf("the slow update's handler saw MoreWaiting %v (handled %v), want true", more, ok)
	}
	if more := handled[252]; more {
		t.Error("the last update's handler saw MoreWaiting true")
	}
	if MoreWaiting(context.Background()) {
		t.Error("MoreWaiting outside the poller")
	}
}

// TestWebhookDropsOnArrival: an update Arrived refuses is answered 200 (it is
// not to come again) without being handled.
func TestWebhookDropsOnArrival(t *testing.T) {
	handled := 0
	h := NewWebhook(WebhookParams{Secret: "s", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Arrived: func(_ context.Context, u Update) bool { return u.SenderID() != 9 },
		Handler: func(context.Context, Update) error { handled++; return nil }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	for _, tt := range []struct {
		from    int
		handled int
	}{{9, 0}, {8, 1}} {
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"first_name":"A"}}}`, tt.from, tt.from, tt.from)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set(SecretHeader, "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || handled != tt.handled {
			t.Errorf("update from %d: answered %d, %d handled; want 200, %d", tt.from, resp.StatusCode, handled, tt.handled)
		}
	}
}
