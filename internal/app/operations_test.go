package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/app"
	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
)

// TestWebhookMode: with CELLBOT_WEBHOOK_URL the bot registers the webhook with a
// secret, handles what Telegram posts, and refuses posts without the secret.
func TestWebhookMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := testenv.FreePort(t)
	e.vars["CELLBOT_HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	e.vars["CELLBOT_WEBHOOK_URL"] = fmt.Sprintf("http://127.0.0.1:%d/telegram/webhook", port)
	e.vars["CELLBOT_WEBHOOK_SECRET"] = "s3cret_token-1"
	e.start()
	set := e.srv.Requests("setWebhook")
	if len(set) != 1 || set[0].Params["secret_token"] != "s3cret_token-1" {
		t.Fatalf("setWebhook calls = %+v", set)
	}
	u := e.srv.User("Lan")
	u.Start("")
	u.WaitMessage("Xin chào đồng chí Lan")
	if n := len(e.srv.Requests("getUpdates")); n != 0 {
		t.Errorf("getUpdates called %d times in webhook mode", n)
	}
	resp, err := http.Post(e.vars["CELLBOT_WEBHOOK_URL"], "application/json", strings.NewReader(`{"update_id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post without the secret got %d, want 403", resp.StatusCode)
	}
}

// TestRedisLateAndDown: the bot waits for a Redis that is not up yet instead of
// crashing, and an update that arrives while Redis is down is handled once it is
// back, not lost.
func TestRedisLateAndDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rs := testenv.StartRedis(t)
	e.vars["REDIS_URL"] = rs.URL()
	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		e.start()
		close(started)
	}()
	select {
	case <-started:
		t.Fatal("the bot started without Redis")
	case <-time.After(time.Second): // it is waiting; nothing to observe but that it has not started
	}
	if err := rs.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-started

	u := e.srv.User("Lan")
	u.Start("")
	u.WaitMessage("Xin chào đồng chí Lan")
	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	u.Send("/help")
	if err := rs.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	u.WaitMessage("Trợ lý sinh hoạt chi bộ")
	e.srv.WaitIdle()
	if n := countContaining(u.Messages(), "Trợ lý sinh hoạt chi bộ"); n != 1 {
		t.Errorf("/help answered %d times, want once", n)
	}
}

// TestManagedRedis: without REDIS_URL the bot runs its own redis-server with its
// append-only file in CELLBOT_DATA_DIR, and stops it on the way out.
func TestManagedRedis(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{
			"TELEGRAM_BOT_TOKEN":    telegramtest.Token,
			"TELEGRAM_API_ENDPOINT": srv.Endpoint(),
			"CELLBOT_DATA_DIR":      dir,
			"CELLBOT_HTTP_ADDR":     fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		done <- app.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Ready: func(a string) { ready <- a }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("bot did not start: %v", err)
	}
	u := srv.User("Lan")
	u.Start("")
	u.WaitMessage("Xin chào")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	aof, _ := filepath.Glob(filepath.Join(dir, "appendonly*"))
	if len(aof) == 0 {
		entries, _ := os.ReadDir(dir)
		t.Errorf("no append-only file in the data dir; it has %v", entries)
	}
}

// TestCommandsHealthAndMetrics: the command lists in Vietnamese and English, and
// the HTTP listener's /healthz and /metrics after a broadcast.
func TestCommandsHealthAndMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	b := e.start()
	vi, en := e.srv.Commands(""), e.srv.Commands("en")
	if len(vi) < 3 || len(vi) != len(en) {
		t.Fatalf("commands: %d in vi, %d in en", len(vi), len(en))
	}
	desc := map[string]string{}
	for _, c := range vi {
		desc[c.Command] = c.Description
	}
	for _, c := range en {
		if desc[c.Command] == "" || desc[c.Command] == c.Description {
			t.Errorf("/%s: vi %q, en %q", c.Command, desc[c.Command], c.Description)
		}
	}
	if desc["help"] != "Bot giúp được gì" || desc["members"] != "" {
		t.Errorf("members' menu: %v", desc)
	}

	s := seedCell(t, e, names(5), nil)
	s.secretary.Send("/broadcast Kiểm tra.")
	s.secretary.WaitMessage("Đã gửi xong: 4/4")

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + b.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	code, metrics := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{`cellbot_delivery_sends_total{result="sent"}`, "cellbot_telegram_429_total", "cellbot_delivery_latency_seconds", "cellbot_delivery_queue_ready", "cellbot_delivery_queue_leased",
		`cellbot_updates_total{kind="message",outcome="handled"}`, "cellbot_update_handler_seconds_bucket", "cellbot_redis_errors_total"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

// TestUpdateIDsStartingAgain: a Bot API server that numbers its updates from the
// start again (a test emulator restarted; Telegram itself after a week without
// updates) over the same Redis: the new updates are handled, not taken for
// redeliveries, and a broadcast with a reused id still goes out.
func TestUpdateIDsStartingAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start()
	s := seedCell(t, e, names(3), nil)
	s.secretary.Send("/broadcast Lần thứ nhất")
	s.secretary.WaitMessage("Đã gửi xong: 2/2")
	b.stop()

	// A new server, numbering from the start, the same Redis and key prefix.
	second := telegramtest.NewServer(t)
	e.srv = second
	e.vars["TELEGRAM_API_ENDPOINT"] = second.Endpoint()
	e.start()
	// The same people: users are numbered from the start too.
	users := map[string]*telegramtest.User{}
	for _, name := range names(3) {
		u := second.User(name)
		if u.ID() != s.members[name].ID() {
			t.Fatalf("user ids differ between servers: %d, %d", u.ID(), s.members[name].ID())
		}
		u.Opened()
		users[name] = u
	}
	sec := users[names(3)[0]]
	sec.Send("/broadcast Lần thứ hai")
	// (The first run's report may still be in the queue and come now: what is
	// queued outlives the process. So wait for the broadcast itself.)
	e.srv.WaitUntil(func() bool {
		for _, u := range users {
			if u != sec && countContaining(u.Messages(), "Lần thứ hai") == 0 {
				return false
			}
		}
		return true
	})
	e.srv.WaitIdle()
	for name, u := range users {
		if n := countContaining(u.Messages(), "Lần thứ hai"); n != 1 && u != sec {
			t.Errorf("%s got the second broadcast %d times, want once", name, n)
		}
	}
}

// TestHealthcheckSubcommand: `cellbot healthcheck` (the container's health check)
// exits 0 while the bot answers on CELLBOT_HTTP_ADDR, and 1 once it has stopped.
func TestHealthcheckSubcommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.start()
	check := func() error {
		cmd := exec.Command(binary(t), "healthcheck")
		cmd.Env = append(os.Environ(), "CELLBOT_HTTP_ADDR="+b.addr, "TELEGRAM_BOT_TOKEN=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := check(); err != nil {
		t.Fatalf("healthcheck with the bot running: %v", err)
	}
	b.stop()
	var exit *exec.ExitError
	if err := check(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("healthcheck with the bot stopped: %v, want exit status 1", err)
	}
}
