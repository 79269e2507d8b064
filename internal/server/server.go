// Package server owns the bot's own HTTP listener: the Telegram webhook route,
// /healthz (the process is up) and /readyz (Redis answers, and Telegram answered
// the last call) for orchestrators, and /metrics for Prometheus.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger checks a dependency the bot cannot work without (Redis).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Reacher says whether the Bot API answered the last call: nil when it did.
type Reacher interface {
	Reachable() error
}

// Params are the server's dependencies.
type Params struct {
	Addr        string
	Health      Pinger  // Redis, for /readyz
	Telegram    Reacher // for /readyz; nil: not checked
	Gatherer    prometheus.Gatherer
	WebhookPath string       // "" when updates come by long polling
	Webhook     http.Handler // serves WebhookPath
	Logger      *slog.Logger
	Timeouts    Timeouts // zero fields take the defaults
}

// Timeouts bound how long a connection may hold the listener, so that a client
// that sends slowly, reads slowly or keeps an idle connection open cannot tie up
// connections for ever. A zero field takes its default.
type Timeouts struct {
	// ReadHeader is for the request's headers (default 5 s).
	ReadHeader time.Duration
	// Read is for the whole request, the webhook's body of at most 1 MiB
	// included (default 10 s).
	Read time.Duration
	// Write runs from the end of the headers to the end of the answer (default
	// 45 s). The webhook answers only after handling the update, which the bot
	// gives 30 s; /metrics and the health checks answer at once.
	Write time.Duration
	// Idle is how long a keep-alive connection may wait for its next request
	// (default 60 s).
	Idle time.Duration
}

// The production timeouts (see Timeouts).
const (
	defaultReadHeaderTimeout = 5 * time.Second
	defaultReadTimeout       = 10 * time.Second
	defaultWriteTimeout      = 45 * time.Second
	defaultIdleTimeout       = time.Minute
)

// orDefault gives each zero field its default.
func (t Timeouts) orDefault() Timeouts {
	pick := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return Timeouts{
		ReadHeader: pick(t.ReadHeader, defaultReadHeaderTimeout),
		Read:       pick(t.Read, defaultReadTimeout),
		Write:      pick(t.Write, defaultWriteTimeout),
		Idle:       pick(t.Idle, defaultIdleTimeout),
	}
}

// Server is the HTTP listener.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	logger *slog.Logger
}

// New builds the routes and binds the address, so that a port in use is an error
// at start and not later.
func New(p Params) (*Server, error) {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	// /healthz: the process is up and serving. A restart would not bring Redis
	// or Telegram back, so they are /readyz's business, not this one's.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	// /readyz: Redis answers PING now, and the Bot API answered the last call.
	// The body says which is down, one line each, without addresses or secrets.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var down []string
		if err := p.Health.Ping(ctx); err != nil {
			down = append(down, "redis: unreachable")
			p.Logger.Warn("readyz: redis unreachable", "err", err)
		}
		if p.Telegram != nil {
			if err := p.Telegram.Reachable(); err != nil {
				down = append(down, "telegram: unreachable at the last call")
				p.Logger.Warn("readyz: telegram unreachable", "err", err)
			}
		}
		if len(down) > 0 {
			http.Error(w, strings.Join(down, "\n"), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	if p.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(p.Gatherer, promhttp.HandlerOpts{}))
	}
	if p.WebhookPath != "" && p.Webhook != nil {
		mux.Handle("POST "+p.WebhookPath, p.Webhook)
	}
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s (CELLBOT_HTTP_ADDR): %w", p.Addr, err)
	}
	to := p.Timeouts.orDefault()
	return &Server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: to.ReadHeader, ReadTimeout: to.Read,
			WriteTimeout: to.Write, IdleTimeout: to.Idle},
		ln:     ln,
		logger: p.Logger,
	}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx ends, then lets requests in hand (webhook updates being
// handled) finish for up to grace.
func (s *Server) Run(ctx context.Context, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// Check asks the bot listening on addr (CELLBOT_HTTP_ADDR) for /healthz and
// returns nil when it answers 200: `cellbot healthcheck`, for a container's health
// check where there is no curl. A wildcard host (0.0.0.0, ::, empty) is asked on
// the loopback address.
func Check(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: CELLBOT_HTTP_ADDR=%q is not host:port: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
	}
	return nil
}
