package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cellbot/cellbot/storage"
)

// Results of a send, the label of cellbot_delivery_sends_total.
const (
	resultSent        = "sent"
	resultUnreachable = "unreachable"
	resultFailed      = "failed"
	resultRetry       = "retry"        // a network error or 5xx, retried later
	resultRateLimited = "rate_limited" // rescheduled: the limit's wait was long, or a 429
)

type metrics struct {
	sends   *prometheus.CounterVec
	flood   prometheus.Counter
	latency prometheus.Histogram
}

// newMetrics registers the delivery metrics on reg (nothing is registered when reg
// is nil). A second Sender on the same registry shares the first one's collectors.
func newMetrics(reg prometheus.Registerer, store *storage.Store, log *slog.Logger) (*metrics, error) {
	m := &metrics{
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cellbot_delivery_sends_total",
			Help: "Queued messages by what became of a send: sent, unreachable (403), failed (400 or retries exhausted), retry (network error or 5xx), rate_limited (rescheduled by the flood limits or a 429).",
		}, []string{"result"}),
		flood: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cellbot_telegram_429_total",
			Help: "Answers 429 Too Many Requests from the Bot API.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cellbot_delivery_latency_seconds",
			Help:    "Time from enqueue to Telegram accepting a queued message's last part.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}),
	}
	for _, l := range []string{resultSent, resultUnreachable, resultFailed, resultRetry, resultRateLimited} {
		m.sends.WithLabelValues(l)
	}
	if reg == nil {
		return m, nil
	}
	register := func(c prometheus.Collector) (prometheus.Collector, error) {
		err := reg.Register(c)
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector, nil
		}
		return c, err
	}
	c, err := register(m.sends)
	if err != nil {
		return nil, err
	}
	m.sends = c.(*prometheus.CounterVec)
	if c, err = register(m.flood); err != nil {
		return nil, err
	}
	m.flood = c.(prometheus.Counter)
	if c, err = register(m.latency); err != nil {
		return nil, err
	}
	m.latency = c.(prometheus.Histogram)
	if _, err := register(&depthCollector{store: store, log: log}); err != nil {
		return nil, err
	}
	return m, nil
}

// depthCollector reads the queue's depth from Redis on each scrape.
type depthCollector struct {
	store *storage.Store
	log   *slog.Logger
}

var (
	readyDesc = prometheus.NewDesc("cellbot_delivery_queue_ready",
		"Queued messages waiting, due or held back (quiet hours, retries), by priority: 0 urgent, 1 bulk.",
		[]string{"priority"}, nil)
	leasedDesc = prometheus.NewDesc("cellbot_delivery_queue_leased",
		"Queued messages being sent (leased by a worker).", nil, nil)
	waveDesc = prometheus.NewDesc("cellbot_delivery_queue_wave",
		"Reminders planned ahead, waiting in the wave to be released into the queue at their time.", nil, nil)
)

func (d *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- leasedDesc
	ch <- waveDesc
}

func (d *depthCollector) Collect(ch chan<- prometheus.Metric) {
	// A scrape must not hang on a slow Redis.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	q, err := d.store.QueueDepth(ctx)
	if err != nil {
		d.log.Warn("delivery: queue depth for metrics", "err", err)
		ch <- prometheus.NewInvalidMetric(readyDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, float64(q.Ready[0]), "0")
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, float64(q.Ready[1]), "1")
	ch <- prometheus.MustNewConstMetric(leasedDesc, prometheus.GaugeValue, float64(q.Leased))
	ch <- prometheus.MustNewConstMetric(waveDesc, prometheus.GaugeValue, float64(q.Wave))
}
