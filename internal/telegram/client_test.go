package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// leaks returns the texts, anywhere in err's tree, that show one of the
// secrets: each error's own text, and a *url.Error's address.
func leaks(err error, secrets ...string) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		texts := []string{e.Error()}
		if ue, ok := e.(*url.Error); ok {
			texts = append(texts, ue.URL)
		}
		for _, s := range texts {
			for _, secret := range secrets {
				if strings.Contains(s, secret) {
					out = append(out, s)
				}
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, n := range u.Unwrap() {
				walk(n)
			}
		}
	}
	walk(err)
	return out
}

// timeoutErr is a network error that timed out, as net/http's are.
type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

// TestRedactErr: whatever shape the error has, the token is gone from its text
// and from every error it wraps; errors.Is, errors.As and Timeout still work.
func TestRedactErr(t *testing.T) {
	const token = "123456:SECRET-token_AB"
	addr := "http://127.0.0.1:1/bot" + token + "/getUpdates"
	sentinel := errors.New("sentinel")
	tests := []struct {
		name string
		err  error
		// is: errors.Is must still find it; nil: no check.
		is error
		// urlErr: errors.As must still find a *url.Error.
		urlErr bool
		// timeout: the redacted error must still say Timeout() (net.Error).
		timeout bool
	}{
		{name: "url error", err: &url.Error{Op: "Post", URL: addr, Err: context.DeadlineExceeded}, is: context.DeadlineExceeded, urlErr: true},
		{name: "url error timing out", err: &url.Error{Op: "Post", URL: addr, Err: timeoutErr{}}, urlErr: true, timeout: true},
		{name: "wrapped url error", err: fmt.Errorf("telegram: getUpdates: %w", &url.Error{Op: "Post", URL: addr, Err: io.EOF}), is: io.EOF, urlErr: true},
		{name: "parse error of a file address", err: &url.Error{Op: "parse", URL: "http://h/file/bot" + token + "/documents/a.%zz", Err: errors.New(`invalid URL escape "%zz"`)}, urlErr: true},
		{name: "plain text", err: errors.New("dial http://h/bot" + token + "/x: refused")},
		{name: "text wrapping a sentinel", err: fmt.Errorf("at /bot%s/: %w", token, sentinel), is: sentinel},
		{name: "token deep inside", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c %s: %w", token, sentinel))), is: sentinel},
		{name: "joined", err: errors.Join(sentinel, errors.New("bot"+token)), is: sentinel},
		{name: "query-escaped token", err: errors.New("token=" + url.QueryEscape(token))},
		{name: "api error description", err: fmt.Errorf("x: %w", &APIError{Code: 502, Description: "bad gateway for " + token})},
		{name: "no token", err: fmt.Errorf("x: %w", sentinel), is: sentinel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redactErr(tt.err, token)
			if got == nil {
				t.Fatal("redactErr returned nil")
			}
			if l := leaks(got, token, url.QueryEscape(token)); len(l) > 0 {
				t.Errorf("token left in %q", l)
			}
			if !strings.Contains(tt.err.Error(), token) && !strings.Contains(tt.err.Error(), url.QueryEscape(token)) && got != tt.err {
				t.Errorf("an error without the token was changed: %v", got)
			}
			if strings.Contains(tt.err.Error(), token) && !strings.Contains(got.Error(), "<token>") {
				t.Errorf("redacted text %q does not say where the token was", got)
			}
			if tt.is != nil && !errors.Is(got, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", got, tt.is)
			}
			var ue *url.Error
			if tt.urlErr && !errors.As(got, &ue) {
				t.Errorf("errors.As(%v, *url.Error) = false", got)
			}
			var ne net.Error
			if tt.timeout && (!errors.As(got, &ne) || !ne.Timeout()) {
				t.Errorf("%v no longer times out", got)
			}
			var ae *APIError
			if errors.As(tt.err, &ae) && (!errors.As(got, &ae) || ae.Code != 502) {
				t.Errorf("errors.As(%v, *APIError) lost the code", got)
			}
		})
	}
	if redactErr(nil, token) != nil {
		t.Error("redactErr(nil) != nil")
	}
}

// TestClientErrorsNeverShowTheToken runs the client against a Bot API that
// fails in every way that quotes the request address: the connection cut or
// refused, a file_path that does not parse as an address, a download cut. No
// error the client returns, nor what Reachable reports for /readyz, shows the
// token.
func TestClientErrorsNeverShowTheToken(t *testing.T) {
	const token = "123456:SECRET-token_AB"
	var mode atomic.Value // "ok", "cut", "badpath", "ctlpath"
	mode.Store("ok")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := mode.Load().(string)
		if m == "cut" || strings.HasPrefix(r.URL.Path, "/file/") {
			// Close the connection without an answer, as a network cut does.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/getFile") && m == "badpath":
			_, _ = w.Write([]byte(`{"ok":true,"result":{"file_id":"f","file_size":3,"file_path":"documents/a.%zz"}}`))
		case strings.HasSuffix(r.URL.Path, "/getFile") && m == "ctlpath":
			_, _ = w.Write([]byte(`{"ok":true,"result":{"file_id":"f","file_size":3,"file_path":"documents/a\u007f.csv"}}`))
		case strings.HasSuffix(r.URL.Path, "/getFile"):
			_, _ = w.Write([]byte(`{"ok":true,"result":{"file_id":"f","file_size":3,"file_path":"documents/a.csv"}}`))
		default:
			_, _ = w.Write([]byte(`{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"b","username":"b_bot"}}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := New(ctx, token, srv.URL+"/bot%s/%s", &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mode string
		call func() error
		// unreachable: Reachable must report the failure afterwards.
		unreachable bool
	}{
		{name: "call cut", mode: "cut", call: func() error { return c.Do(ctx, Raw{Name: "getMe"}, nil) }, unreachable: true},
		{name: "upload cut", mode: "cut", call: func() error {
			return c.Do(ctx, Upload{Name: "sendDocument", ChatID: 1, Field: "document", FileName: "a.csv", Data: []byte("x")}, nil)
		}, unreachable: true},
		{name: "file path with a bad escape", mode: "badpath", call: func() error { _, err := c.Download(ctx, "f", 100); return err }},
		{name: "file path with a control character", mode: "ctlpath", call: func() error { _, err := c.Download(ctx, "f", 100); return err }},
		{name: "download cut", mode: "ok", call: func() error { _, err := c.Download(ctx, "f", 100); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode.Store(tt.mode)
			err := tt.call()
			if err == nil {
				t.Fatal("the call succeeded; want it to fail")
			}
			if l := leaks(err, token); len(l) > 0 {
				t.Errorf("error shows the token: %q", l)
			}
			if !strings.Contains(err.Error(), "<token>") {
				t.Errorf("error %q does not quote the address, so this case tests nothing", err)
			}
			r := c.Reachable()
			if tt.unreachable && r == nil {
				t.Error("Reachable() = nil after a cut call")
			}
			if l := leaks(r, token); len(l) > 0 {
				t.Errorf("Reachable shows the token: %q", l)
			}
		})
	}
	srv.Close()
	if err := c.Do(ctx, Raw{Name: "getMe"}, nil); err == nil || len(leaks(err, token)) > 0 {
		t.Errorf("call to a closed server: %v", err)
	}
	if r := c.Reachable(); r == nil || len(leaks(r, token)) > 0 {
		t.Errorf("Reachable after a refused connection: %v", r)
	}
}
