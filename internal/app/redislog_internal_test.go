package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedisDialFailuresWarnOncePerOutage: go-redis's pool says "failed to dial"
// once for each connection it tries, about twenty in a burst. While the bot
// waits for Redis at start they are at Debug (the wait says the problem once);
// after start the first of an outage is a warning and the rest are at Debug,
// until Redis has been quiet for outageGap. Other go-redis lines stay warnings.
func TestRedisDialFailuresWarnOncePerOutage(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var waits atomic.Int32
	r := &redisLogger{
		l:     slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", "go-redis"),
		now:   func() time.Time { return clock },
		waits: &waits,
	}
	ctx := context.Background()
	burst := func(n int) (warn, debug int) {
		buf.Reset()
		for range n {
			r.Printf(ctx, "redis: connection pool: failed to dial after %d attempts: %v", 5, "dial tcp 127.0.0.1:1: connect: connection refused")
			clock = clock.Add(time.Second)
		}
		out := buf.String()
		return strings.Count(out, "level=WARN"), strings.Count(out, "level=DEBUG")
	}

	waits.Add(1) // waitRedis is running
	if warn, debug := burst(20); warn != 0 || debug != 20 {
		t.Errorf("while waiting at start: %d warnings, %d debug lines; want 0, 20:\n%s", warn, debug, buf.String())
	}
	waits.Add(-1)

	if warn, debug := burst(20); warn != 1 || debug != 19 {
		t.Errorf("an outage after start: %d warnings, %d debug lines; want 1, 19:\n%s", warn, debug, buf.String())
	}
	if !strings.Contains(buf.String(), "component=go-redis") {
		t.Errorf("no component: %s", buf.String())
	}
	if warn, _ := burst(5); warn != 0 {
		t.Errorf("the same outage, going on: %d warnings, want 0:\n%s", warn, buf.String())
	}
	clock = clock.Add(outageGap)
	if warn, _ := burst(20); warn != 1 {
		t.Errorf("the next outage: %d warnings, want 1:\n%s", warn, buf.String())
	}

	buf.Reset()
	r.Printf(ctx, "redis: connection pool: failed to get a usable connection after %d attempts", 3)
	if !strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("another go-redis line is not a warning: %s", buf.String())
	}
}
