package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/server"
)

type fakePing struct{ err error }

func (f *fakePing) Ping(context.Context) error { return f.err }

type fakeReach struct{ err error }

func (f *fakeReach) Reachable() error { return f.err }

func TestHealthAndReadiness(t *testing.T) {
	redis, tg := &fakePing{}, &fakeReach{}
	s, err := server.New(server.Params{Addr: "127.0.0.1:0", Health: redis, Telegram: tg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 0) }()
	defer func() { cancel(); <-done }()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name            string
		redisErr, tgErr error
		readyz          int
		readyzSays      string
	}{
		{"all up", nil, nil, 200, "ok"},
		{"redis down", errors.New("dial tcp: refused"), nil, 503, "redis: unreachable"},
		{"telegram down", nil, errors.New("timeout"), 503, "telegram: unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			redis.err, tg.err = tc.redisErr, tc.tgErr
			if code, body := get("/healthz"); code != 200 || body != "ok\n" {
				t.Errorf("/healthz = %d %q, want 200 ok whatever Redis and Telegram do", code, body)
			}
			code, body := get("/readyz")
			if code != tc.readyz || !strings.Contains(body, tc.readyzSays) {
				t.Errorf("/readyz = %d %q, want %d saying %q", code, body, tc.readyz, tc.readyzSays)
			}
			if strings.Contains(body, "refused") {
				t.Errorf("/readyz tells the error's details: %q", body)
			}
		})
	}
	// `cellbot healthcheck`, with the listener's wildcard address too.
	port := s.Addr()[strings.LastIndex(s.Addr(), ":")+1:]
	for _, addr := range []string{s.Addr(), "0.0.0.0:" + port, ":" + port} {
		if err := server.Check(context.Background(), addr); err != nil {
			t.Errorf("Check(%s) = %v, want nil", addr, err)
		}
	}
}

func TestCheckFailsWithoutBot(t *testing.T) {
	s, err := server.New(server.Params{Addr: "127.0.0.1:0", Health: &fakePing{}})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	_ = s.Run(canceled(), 0) // closes the listener
	if err := server.Check(context.Background(), addr); err == nil {
		t.Errorf("Check(%s) with nothing listening = nil, want an error", addr)
	}
	if err := server.Check(context.Background(), "nonsense"); err == nil || !strings.Contains(err.Error(), "CELLBOT_HTTP_ADDR") {
		t.Errorf("Check(nonsense) = %v, want an error naming CELLBOT_HTTP_ADDR", err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestTimeoutsCloseConnections: a connection that stops half-way through its
// request's headers or body, or a keep-alive connection left idle, is closed by
// the server once its timeout passes, while a client that keeps to the pace is
// served, over the same connection too. The timeouts are short here; the
// production ones are in TestDefaultTimeouts.
func TestTimeoutsCloseConnections(t *testing.T) {
	webhook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	// Long enough that a loaded machine does not miss it while serving.
	const timeout = time.Second
	s, err := server.New(server.Params{Addr: "127.0.0.1:0", Health: &fakePing{}, WebhookPath: "/hook", Webhook: webhook,
		Timeouts: server.Timeouts{ReadHeader: timeout, Read: timeout, Write: timeout, Idle: timeout}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 0) }()
	defer func() { cancel(); <-done }()

	const get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name string
		// send is written at once; then the client waits, sending nothing more.
		send string
		// answers is how many answers come before the server closes; -1: any
		// (a request cut by the read timeout is answered within the same
		// write timeout, or not at all).
		answers int
	}{
		{name: "idle keep-alive connection", send: get, answers: 1},
		{name: "idle after two requests in a row", send: get + get, answers: 2},
		{name: "headers never finished", send: "GET /healthz HTTP/1.1\r\nHost: x\r\n"},
		{name: "body never finished", send: "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"update_id\":", answers: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			// Far longer than the timeouts: reaching it means the server held
			// the connection.
			start := time.Now()
			_ = conn.SetReadDeadline(start.Add(10 * time.Second))
			r := bufio.NewReader(conn)
			answers := 0
			for {
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatalf("the server still holds the connection after %v", time.Since(start))
					}
					break // closed by the server
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answers++
			}
			if tt.answers >= 0 && answers != tt.answers {
				t.Errorf("%d answers before the server closed, want %d", answers, tt.answers)
			}
			if d := time.Since(start); d < timeout {
				t.Errorf("closed after %v, before the %v timeout", d, timeout)
			}
		})
	}
}
