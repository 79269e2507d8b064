package telegram

import (
	"context"
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// SecretHeader carries the webhook's secret token. The library predates it
// (v5.5.1 has no secret_token), so the check is done here.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Webhook serves Telegram's webhook POSTs: it checks the secret, decodes the
// update and handles it before answering, so that Telegram redelivers an update
// whose handling failed (a non-2xx answer). An update the bot cannot decode (a
// field of an unexpected type) is logged and answered 200, so that it does not
// come back forever and hold the updates behind it.
//
// Handlers finish even when Telegram hangs up. Close stops taking updates and
// waits for the handlers in hand, cancelling their context after the grace
// period, as the Poller does; call it before closing what they use (Redis).
type Webhook struct {
	secret  string
	handle  Handler
	arrived func(ctx context.Context, u Update) bool
	logger  *slog.Logger
	grace   time.Duration

	ctx    context.Context // the handlers' context, cancelled Grace after Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// WebhookParams are a Webhook's dependencies.
type WebhookParams struct {
	Secret  string
	Handler Handler
	// Arrived is as in PollerParams: an update it returns false for is
	// answered 200 without being handled.
	Arrived func(ctx context.Context, u Update) bool
	Logger  *slog.Logger
	// Grace is how long handlers in hand may go on after Close; 0 means 4 s.
	Grace time.Duration
}

// NewWebhook builds a Webhook.
func NewWebhook(p WebhookParams) *Webhook {
	if p.Grace <= 0 {
		p.Grace = 4 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Webhook{secret: p.Secret, handle: p.Handler, arrived: p.Arrived, logger: p.Logger,
		grace: p.Grace, ctx: ctx, cancel: cancel}
}

// ServeHTTP implements http.Handler.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := r.Header.Get(SecretHeader)
	if h.secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(h.secret)) != 1 {
		h.logger.Warn("webhook request with a wrong secret", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad update", http.StatusBadRequest)
		return
	}
	u, err := DecodeUpdate(body)
	if err != nil {
		if u.UpdateID == 0 {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		h.logger.Error("skipped an update the bot cannot decode", "update_id", u.UpdateID, "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	if h.arrived != nil && !h.arrived(h.ctx, u) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := h.handle(h.ctx, u); err != nil {
		h.logger.Error("webhook update not handled; Telegram will deliver it again", "update_id", u.UpdateID, "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Close stops taking updates (they are answered 503 and come again) and waits
// for those in hand: for up to the grace period, then their context is cancelled
// and they are waited for a second more.
func (h *Webhook) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	defer h.cancel()
	t := time.NewTimer(h.grace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	h.cancel()
	t.Reset(time.Second)
	select {
	case <-done:
	case <-t.C:
		h.logger.Warn("webhook updates still being handled after the grace period; they will come again")
	}
}

// SetWebhook registers the webhook with its secret; the library's own setWebhook
// has no secret_token, so the parameter is sent by name.
func SetWebhook(ctx context.Context, c Caller, url, secret string) error {
	return c.Do(ctx, Raw{Name: "setWebhook", Values: Params{
		"url": url, "secret_token": secret, "allowed_updates": allowedUpdates,
	}}, nil)
}
