package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLogger carries go-redis's own log lines (pool and reconnect trouble)
// into the bot's logger, instead of raw text in the JSON stream. Give it to
// redis.SetLogger once, in main: go-redis's logger is global.
//
// The pool's dial failures come in bursts, one a connection it tries: while
// the bot waits for Redis at start (waitRedis says that once, as a sentence)
// they go to Debug; after start the first of an outage is a warning and the
// rest, until Redis has been quiet for outageGap, go to Debug.
func RedisLogger(l *slog.Logger) *redisLogger {
	return &redisLogger{l: l.With("component", "go-redis"), now: time.Now, waits: &redisWaits}
}

// outageGap is how long without a dial failure ends an outage: the next
// failure starts a new one, and is a warning again.
const outageGap = time.Minute

// redisWaits counts the start-up waits for Redis in progress (waitRedis). It
// is package state because go-redis's logger, which reads it, is too.
var redisWaits atomic.Int32

type redisLogger struct {
	l     *slog.Logger
	now   func() time.Time
	waits *atomic.Int32 // redisWaits; a test's own in tests

	mu       sync.Mutex
	lastDial time.Time // the last dial failure after start
}

// Printf implements go-redis's internal.Logging.
func (r *redisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	level := slog.LevelWarn
	if strings.Contains(msg, "failed to dial") {
		level = r.dialLevel()
	}
	r.l.Log(ctx, level, msg)
}

// dialLevel is the level of a pool dial failure: Warn for the first of an
// outage after start, Debug otherwise.
func (r *redisLogger) dialLevel() slog.Level {
	if r.waits.Load() > 0 {
		return slog.LevelDebug
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	first := r.lastDial.IsZero() || now.Sub(r.lastDial) >= outageGap
	r.lastDial = now
	if first {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// redisAddrs are the addresses a client connects to, for messages.
func redisAddrs(rdb redis.UniversalClient) []string {
	switch c := rdb.(type) {
	case *redis.Client:
		return []string{c.Options().Addr}
	case *redis.ClusterClient:
		return c.Options().Addrs
	}
	return []string{"REDIS_URL"}
}
