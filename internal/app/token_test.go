package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/app"
	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
)

// TestTokenNeverLeaves plays the network failures that put the request address,
// token included, into an error: the bot runs behind a proxy, which is cut while
// while the bot polls and while it sends a reply; /readyz and /metrics are asked
// during the cut; and a document whose file_path does not parse as an address
// is imported. Then everything the bot wrote is searched for the token: its
// logs at every level, the /readyz and /metrics answers, every call the Bot API
// test server recorded, and every value it left in Redis.
func TestTokenNeverLeaves(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
	proxy := testenv.StartProxy(t, e.srv.Listener.Addr().String())
	e.vars["TELEGRAM_API_ENDPOINT"] = "http://" + proxy.Addr() + "/bot%s/%s"
	logs := &syncBuffer{}
	b := e.startLogging(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer func() {
		if t.Failed() {
			t.Logf("the bot's logs:\n%s", logs.String())
		}
	}()

	var answers []string // what /readyz and /metrics said
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get("http://" + b.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answers = append(answers, path+": "+string(body))
		return resp.StatusCode
	}
	waitReady := func(want int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for get("/readyz") != want {
			if time.Now().After(deadline) {
				t.Fatalf("/readyz did not answer %d within 60 s", want)
			}
			select {
			case <-e.srv.Changed():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	sec := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(sec)
	setupCell(t, e, sec, g)

	// A file_path that is no address: building the download request fails, and
	// the error quotes the address with the token in it.
	sec.SendDocument("danh-sach.%zz", []byte("Họ và tên\nTrần Văn Bình\n"), "/import")
	sec.WaitMessage("trục trặc")

	// The network goes while a reply is on its way and a long poll is open.
	release := e.srv.Hold("sendMessage")
	before := len(sec.Messages())
	sec.Send("/help")
	e.srv.WaitUntil(func() bool { return e.srv.Held("sendMessage") > 0 })
	proxy.Cut()
	waitReady(http.StatusServiceUnavailable)
	if code := get("/metrics"); code != http.StatusOK {
		t.Errorf("/metrics = %d during the cut", code)
	}
	proxy.Restore()
	release()
	// The bot works again: a reply comes (the one cut on its way is not sent
	// again), and /readyz, which waits for a call to end well, says ready.
	sec.Send("/help")
	e.srv.WaitUntil(func() bool { return len(sec.Messages()) > before })
	waitReady(http.StatusOK)
	get("/metrics")
	b.stop()

	secrets := []string{telegramtest.Token, tokenSecret(telegramtest.Token)}
	written := map[string]string{
		"logs":            logs.String(),
		"http answers":    strings.Join(answers, "\n"),
		"Bot API calls":   fmt.Sprint(e.srv.Requests("")),
		"values in Redis": redisValues(t, e),
	}
	for what, text := range written {
		for line := range strings.Lines(text) {
			if slices.ContainsFunc(secrets, func(s string) bool { return strings.Contains(line, s) }) {
				t.Errorf("%s show the token: %s", what, strings.TrimSpace(line))
			}
		}
	}
	// The failures were logged, with the address redacted: the test played them.
	for _, want := range []string{"readyz: telegram unreachable", "/file/bot<token>/", "/bot<token>/getUpdates"} {
		if !strings.Contains(written["logs"], want) {
			t.Errorf("the logs have no %q: the failure it stands for was not played", want)
		}
	}
	if proxy.Cuts() == 0 {
		t.Error("the proxy cut no connection")
	}
}

// tokenSecret is the part of a bot token after the bot's id: the secret itself.
func tokenSecret(token string) string {
	_, secret, _ := strings.Cut(token, ":")
	return secret
}

// startLogging starts the bot as start does, with the given logger.
func (e *env) startLogging(logger *slog.Logger) *runningBot {
	e.t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := e.vars[k]; return v, ok })
	if err != nil {
		e.t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &runningBot{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		b.done <- app.Run(ctx, cfg, logger, app.Options{KeyPrefix: e.prefix, Now: e.now, Ready: func(a string) { ready <- a }})
	}()
	select {
	case b.addr = <-ready:
	case err := <-b.done:
		e.t.Fatalf("bot did not start: %v", err)
	case <-time.After(20 * time.Second):
		e.t.Fatal("bot did not start within 20 s")
	}
	e.t.Cleanup(b.stop)
	e.running = b
	return b
}

// redisValues returns every key under the env's prefix with its value, of
// whatever type, as text.
func redisValues(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	var out strings.Builder
	iter := e.rdb.Scan(ctx, 0, e.prefix+":*", 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		typ, err := e.rdb.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = e.rdb.Get(ctx, key).Result()
		case "hash":
			v, err = e.rdb.HGetAll(ctx, key).Result()
		case "list":
			v, err = e.rdb.LRange(ctx, key, 0, -1).Result()
		case "set":
			v, err = e.rdb.SMembers(ctx, key).Result()
		case "zset":
			v, err = e.rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		case "stream":
			v, err = e.rdb.XRange(ctx, key, "-", "+").Result()
		default:
			t.Fatalf("key %s has type %s, which this test cannot read", key, typ)
		}
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		fmt.Fprintf(&out, "%s %v\n", key, v)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// syncBuffer is a bytes.Buffer that goroutines may write to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
