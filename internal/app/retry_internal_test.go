package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestStartupProblemSaidOnce: a start-up problem is said once, as a sentence,
// and the retries after it are quieter.
func TestStartupProblemSaidOnce(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n := 0
	err := retryStart(context.Background(), logger, "connecting to Telegram", "cannot reach api.telegram.org: check the connection or TELEGRAM_API_ENDPOINT",
		time.Microsecond, time.Microsecond, func() error {
			if n++; n < 4 {
				return errors.New("dial tcp: connection refused")
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if got := strings.Count(out, "level=ERROR"); got != 1 || !strings.Contains(out, "cannot reach api.telegram.org: check the connection or TELEGRAM_API_ENDPOINT") {
		t.Errorf("%d errors logged:\n%s", got, out)
	}
	if got := strings.Count(out, "level=INFO"); got != 2 {
		t.Errorf("%d quiet retries logged, want 2:\n%s", got, out)
	}
}
