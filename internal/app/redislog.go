package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisLogger carries go-redis's own log lines (pool and reconnect trouble)
// into the bot's logger, instead of raw text in the JSON stream. Give it to
// redis.SetLogger once, in main: go-redis's logger is global.
func RedisLogger(l *slog.Logger) redisLogger { return redisLogger{l.With("component", "go-redis")} }

type redisLogger struct{ l *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)))
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
