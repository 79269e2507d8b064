package app

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/telegram"
)

// instrumentUpdates wraps the update handler with cellbot_updates_total (by kind
// and outcome: handled, or retry when the update must come again) and
// cellbot_update_handler_seconds.
func instrumentUpdates(reg prometheus.Registerer, h telegram.Handler) telegram.Handler {
	updates := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cellbot_updates_total",
		Help: "Updates from Telegram by kind (message, callback_query, my_chat_member, other) and outcome (handled, retry: to come again).",
	}, []string{"kind", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cellbot_update_handler_seconds",
		Help:    "Time to handle an update, by kind.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"kind"})
	reg.MustRegister(updates, latency)
	for _, k := range []string{"message", "callback_query", "my_chat_member", "other"} {
		updates.WithLabelValues(k, "handled")
		updates.WithLabelValues(k, "retry")
	}
	return func(ctx context.Context, u telegram.Update) error {
		kind := u.Kind()
		start := time.Now()
		err := h(ctx, u)
		latency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
		outcome := "handled"
		if err != nil {
			outcome = "retry"
		}
		updates.WithLabelValues(kind, outcome).Inc()
		return err
	}
}

// redisErrorHook counts failed Redis commands in cellbot_redis_errors_total. A
// missing key (redis.Nil), a script not yet loaded (NOSCRIPT, which go-redis
// answers by sending the script) and a caller giving up are no errors.
type redisErrorHook struct{ errs prometheus.Counter }

func newRedisErrorHook(reg prometheus.Registerer) redisErrorHook {
	h := redisErrorHook{errs: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cellbot_redis_errors_total",
		Help: "Redis commands and pipelines that failed: connection trouble, timeouts, error replies.",
	})}
	reg.MustRegister(h.errs)
	return h
}

func (h redisErrorHook) count(err error) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) ||
		strings.HasPrefix(err.Error(), "NOSCRIPT") {
		return
	}
	h.errs.Inc()
}

func (h redisErrorHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		h.count(err)
		return c, err
	}
}

func (h redisErrorHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.count(err)
		return err
	}
}

func (h redisErrorHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.count(err)
		return err
	}
}
