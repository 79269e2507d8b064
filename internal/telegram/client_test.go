package telegram

import (
	"context"
	"errors"
	"net/http"
	"strings"
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
