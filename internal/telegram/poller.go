package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Handler handles one update. It returns an error only when the update was not
// handled and should be delivered again (Redis unreachable, say); a user's mistake
// is handled, answered and reported as nil.
type Handler func(ctx context.Context, u Update) error

// AllowedUpdates are the update kinds the bot asks for.
var allowedUpdates = `["message","callback_query","my_chat_member"]`

// Poller receives updates with getUpdates and its own offset. The library's
// GetUpdatesChan confirms updates before they are handled and drops buffered ones
// on stop (LIBRARIES.md, issue #451), so it is not used: here the offset moves past
// an update only after its handler returned nil.
type Poller struct {
	caller  Caller
	handle  Handler
	logger  *slog.Logger
	timeout time.Duration // long-poll timeout, at most 50 s
	grace   time.Duration // how long updates in hand may go on after Run's ctx ends
	// offset is owned by the Run goroutine.
	offset int
}

// PollerParams are the Poller's dependencies.
type PollerParams struct {
	Caller  Caller
	Handler Handler
	Logger  *slog.Logger
	// Timeout is the long-poll timeout; 0 means 30 s.
	Timeout time.Duration
	// Grace is how long handlers of updates in hand may go on once Run's context
	// ends, before their own context is cancelled; 0 means 4 s.
	Grace time.Duration
}

// NewPoller builds a Poller.
func NewPoller(p PollerParams) *Poller {
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Second
	}
	if p.Timeout > 50*time.Second {
		p.Timeout = 50 * time.Second
	}
	if p.Grace <= 0 {
		p.Grace = 4 * time.Second
	}
	return &Poller{caller: p.Caller, handle: p.Handler, logger: p.Logger, timeout: p.Timeout, grace: p.Grace}
}

// Run polls until ctx is cancelled. Updates in hand when ctx ends are handled to the
// end, for up to the grace period (their handlers' context outlives ctx by that
// much), then the offset is confirmed to Telegram and Run returns nil. An update
// cut off by the grace period is not confirmed, so it comes again.
func (p *Poller) Run(ctx context.Context) error {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(p.grace, cancel) })
	defer stop()
	if err := p.caller.Do(ctx, Raw{Name: "deleteWebhook", Values: Params{}}, nil); err != nil && ctx.Err() == nil {
		p.logger.Warn("delete webhook before polling", "err", err)
	}
	backoff := time.Second
	for {
		if ctx.Err() != nil {
			p.confirm()
			return nil
		}
		var updates []Update
		err := p.caller.Do(ctx, Raw{Name: "getUpdates", Values: Params{
			"offset":          strconv.Itoa(p.offset),
			"timeout":         strconv.Itoa(int(p.timeout / time.Second)),
			"allowed_updates": allowedUpdates,
		}}, &updates)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			if IsConflict(err) {
				p.logger.Warn("another poller or a webhook holds the updates; retrying", "err", err, "retry_in", backoff.String())
			} else {
				p.logger.Error("get updates", "err", err, "retry_in", backoff.String())
			}
			sleep(ctx, backoff)
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		if len(updates) == 0 {
			continue
		}
		next, failed := p.handleBatch(hctx, updates)
		p.offset = next
		if failed {
			// Something the handlers need is down; give it time before the
			// failed updates come again.
			sleep(ctx, 2*time.Second)
		}
	}
}

// handleBatch handles a batch, each chat's updates in order and chats in parallel,
// and returns the offset to confirm: past the whole batch, or at the first update
// that failed so that it comes again.
func (p *Poller) handleBatch(ctx context.Context, updates []Update) (next int, failed bool) {
	byChat := map[int64][]Update{}
	var order []int64
	for _, u := range updates {
		id := u.ChatID()
		if _, ok := byChat[id]; !ok {
			order = append(order, id)
		}
		byChat[id] = append(byChat[id], u)
	}
	var (
		mu       sync.Mutex
		firstBad = -1
		wg       sync.WaitGroup
	)
	for _, chat := range order {
		wg.Go(func() {
			for _, u := range byChat[chat] {
				if err := p.handle(ctx, u); err != nil {
					p.logger.Error("update not handled; it will come again", "update_id", u.UpdateID, "err", err)
					mu.Lock()
					if firstBad < 0 || u.UpdateID < firstBad {
						firstBad = u.UpdateID
					}
					mu.Unlock()
					return // keep this chat's later updates in order
				}
			}
		})
	}
	wg.Wait()
	if firstBad >= 0 {
		return firstBad, true
	}
	return updates[len(updates)-1].UpdateID + 1, false
}

// confirm tells Telegram that everything below the offset is handled: getUpdates
// confirms by offset, so without this call the last batch would come again at the
// next start (and be skipped there by the handled-update record).
func (p *Poller) confirm() {
	if p.offset == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := p.caller.Do(ctx, Raw{Name: "getUpdates", Values: Params{
		"offset": strconv.Itoa(p.offset), "timeout": "0", "limit": "1", "allowed_updates": allowedUpdates,
	}}, nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		p.logger.Warn("confirm updates at shutdown", "offset", p.offset, "err", err)
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
