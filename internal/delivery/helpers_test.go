package delivery_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// testEnv is a Redis prefix, a strict Bot API server and a client of it.
type testEnv struct {
	prefix string // of the Redis keys
	srv    *telegramtest.Server
	store  *storage.Store
	bot    *telegram.Client
	reg    *prometheus.Registry
}

func newTestEnv(t testing.TB, opts ...telegramtest.Option) *testEnv {
	t.Helper()
	rdb, prefix := testenv.RedisEnv(t)
	// Broadcasts through the real limits take seconds: wait longer than the
	// default 10 s before failing.
	srv := telegramtest.NewServer(t, append([]telegramtest.Option{telegramtest.WithWaitTimeout(2 * time.Minute)}, opts...)...)
	bot, err := telegram.New(context.Background(), srv.Token, srv.Endpoint(), &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{prefix: prefix, srv: srv, store: storage.New(rdb, prefix), bot: bot, reg: prometheus.NewRegistry()}
}

// sender builds a Sender on the env (Store, Caller, Registerer and Logger filled
// in when not set) and runs it until the test ends.
func (e *testEnv) sender(t testing.TB, p delivery.SenderParams) *delivery.Sender {
	t.Helper()
	if p.Store == nil {
		p.Store = e.store
	}
	if p.Caller == nil {
		p.Caller = e.bot
	}
	if p.Registerer == nil {
		p.Registerer = e.reg
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := delivery.NewSender(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

// members creates n users named "Đồng chí NN" who opened the bot.
func members(srv *telegramtest.Server, n int) []*telegramtest.User {
	us := make([]*telegramtest.User, n)
	for i := range us {
		us[i] = srv.User(fmt.Sprintf("Đồng chí %02d", i+1))
		us[i].Start("")
	}
	return us
}

// broadcast makes one message per user, ids bc:<job>:<i>.
func broadcast(jobID string, us []*telegramtest.User, parts func(chat int64) []telegram.Raw) []delivery.Message {
	msgs := make([]delivery.Message, len(us))
	for i, u := range us {
		msgs[i] = delivery.Message{
			ID:       fmt.Sprintf("bc:%s:%d", jobID, i+1),
			To:       storage.QueueRecipient{CellID: 1, MemberID: int64(i + 1), ChatID: u.ID(), Name: fmt.Sprintf("Đồng chí %02d", i+1)},
			Parts:    parts(u.ID()),
			Purpose:  "broadcast",
			Priority: storage.PriorityBulk,
		}
	}
	return msgs
}

func textParts(text string) func(int64) []telegram.Raw {
	return func(chat int64) []telegram.Raw {
		return delivery.TextParts(chat, delivery.Split(text, delivery.MaxText), nil)
	}
}

// startProgress sends the "sending…" message a handler would send, and returns
// its id for the job's progress.
func startProgress(t testing.TB, s *delivery.Sender, chat int64, n int) int {
	t.Helper()
	var m telegram.Message
	if err := s.Direct().Do(context.Background(), telegram.SendMessage{ChatID: chat, Text: texts.T(texts.VI, texts.DeliveryStarted, n)}, &m); err != nil {
		t.Fatal(err)
	}
	return m.MessageID
}

// waitJobDone waits until the job's report reached chat and the queue is empty,
// so that nothing more can be sent.
func (e *testEnv) waitJobDone(t testing.TB, reportChat int64) {
	t.Helper()
	doneText := strings.SplitN(texts.T(texts.VI, texts.DeliveryDone, 0, 0), ":", 2)[0] // "✅ Đã gửi xong"
	e.srv.WaitUntil(func() bool {
		for _, m := range e.srv.Messages(reportChat) {
			if strings.HasPrefix(m.Text, doneText) {
				return true
			}
		}
		return false
	})
	e.waitQueueEmpty(t)
}

// waitQueueEmpty waits until no message is ready or leased.
func (e *testEnv) waitQueueEmpty(t testing.TB) {
	t.Helper()
	waitFor(t, time.Minute, func() bool {
		d, err := e.store.QueueDepth(context.Background())
		return err == nil && d.Ready[0]+d.Ready[1]+d.Leased == 0
	})
}

// waitFor polls cond, which depends on Redis (the test server's WaitUntil wakes
// only on the server's own changes), until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("condition not met within %v", timeout)
		}
	}
}

// counter reads a counter or the sum of a counter vector's series with the label.
func counter(t testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || hasLabel(m, label, value) {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// unreachableLog records OnUnreachable calls.
type unreachableLog struct {
	mu    sync.Mutex
	calls map[int64]int
}

func (l *unreachableLog) hook(_ context.Context, to storage.QueueRecipient) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[int64]int{}
	}
	l.calls[to.MemberID]++
}

func (l *unreachableLog) snapshot() map[int64]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]int{}
	for k, v := range l.calls {
		out[k] = v
	}
	return out
}
