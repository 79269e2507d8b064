package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

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
