// Package server owns the bot's own HTTP listener: the Telegram webhook route,
// /healthz for orchestrators and /metrics for Prometheus.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger checks a dependency the bot cannot work without (Redis).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Params are the server's dependencies.
type Params struct {
	Addr        string
	Health      Pinger
	Gatherer    prometheus.Gatherer
	WebhookPath string       // "" when updates come by long polling
	Webhook     http.Handler // serves WebhookPath
	Logger      *slog.Logger
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := p.Health.Ping(ctx); err != nil {
			http.Error(w, "redis: unreachable", http.StatusServiceUnavailable)
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
	return &Server{
		srv:    &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
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
