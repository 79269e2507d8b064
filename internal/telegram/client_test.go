package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A network error quotes the request address, which holds the token: it must not
// reach the logs, and errors.Is must still see through it.
func TestErrorsNeverShowTheToken(t *testing.T) {
	const token = "123456:SECRET-token"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(ctx, token, "http://127.0.0.1:1/bot%s/%s", &http.Client{Timeout: time.Second})
	if err == nil {
		t.Fatal("New succeeded against a closed port")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error shows the token: %v", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
	}
}

// TestReachable: the client remembers whether the Bot API answered its last call;
// an error answer is an answer, a 5xx or a network error is not, and a call its
// own caller gave up on says nothing.
func TestReachable(t *testing.T) {
	var answer atomic.Value // "ok", "403", "502"
	answer.Store("ok")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch answer.Load() {
		case "403":
			_, _ = w.Write([]byte(`{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`))
		case "502":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":502,"description":"Bad Gateway"}`))
		default:
			_, _ = w.Write([]byte(`{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"b","username":"b_bot"}}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := New(ctx, "1:x", srv.URL+"/bot%s/%s", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	call := func() { _ = c.Do(ctx, Raw{Name: "getMe"}, nil) }
	if err := c.Reachable(); err != nil {
		t.Errorf("after getMe: %v", err)
	}
	answer.Store("403")
	call()
	if err := c.Reachable(); err != nil {
		t.Errorf("after a 403: %v, want reachable", err)
	}
	answer.Store("502")
	call()
	if err := c.Reachable(); err == nil {
		t.Error("after a 502: reachable, want not")
	}
	answer.Store("ok")
	call()
	if err := c.Reachable(); err != nil {
		t.Errorf("after a success: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_ = c.Do(cctx, Raw{Name: "getMe"}, nil)
	if err := c.Reachable(); err != nil {
		t.Errorf("after a call given up by its caller: %v, want still reachable", err)
	}
	srv.Close()
	call()
	if err := c.Reachable(); err == nil {
		t.Error("with the server gone: reachable, want not")
	}
}
