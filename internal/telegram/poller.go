package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Handler handles one update. It returns an error only when the update was not
// handled and should be delivered again (Redis unreachable, another process holds
// it, or shutdown cut it off); a user's mistake is handled, answered and reported
// as nil.
type Handler func(ctx context.Context, u Update) error

// AllowedUpdates are the update kinds the bot asks for.
var allowedUpdates = `["message","callback_query","my_chat_member"]`

// Poller receives updates with getUpdates and its own offset. The library's
// GetUpdatesChan confirms updates before they are handled and drops buffered ones
// on stop (a known upstream bug), so it is not used.
//
// Each chat has a lane: its updates are handled one at a time, in order, while
// other chats' lanes go on, so a slow update holds back only its own chat. The
// offset sent to Telegram is the oldest update not yet finished (or past the
// newest when all are), so an update is confirmed only once handled. Updates
// still in hand come back in each answer; the poller knows them and skips them.
// Telegram answers at most 100 updates a call, so while one update is slow, at
// most 100 behind it are seen before it finishes: a handler must not wait on
// its chat while more of the chat's updates wait behind it (MoreWaiting), and
// an update not to be handled at all (Arrived) never enters a lane.
type Poller struct {
	caller  Caller
	handle  Handler
	arrived func(ctx context.Context, u Update) bool
	logger  *slog.Logger
	timeout time.Duration // long-poll timeout, at most 50 s
	grace   time.Duration // how long updates in hand may go on after Run's ctx ends
	retry   time.Duration // first wait before a failed update is tried again

	mu      sync.Mutex
	lanes   map[int64][]Update // waiting updates per chat; the head is being handled
	pending map[int]bool       // fetched, not finished (in a lane)
	known   map[int]bool       // fetched at or above the confirmed offset
	newest  int                // highest update_id fetched; -1 before any
	changed chan struct{}      // closed and replaced when an update finishes
	stopped bool               // no lane takes a new update once Run's ctx ended
	wg      sync.WaitGroup     // lane goroutines
}

// PollerParams are the Poller's dependencies.
type PollerParams struct {
	Caller  Caller
	Handler Handler
	// Arrived, when set, is called for each update as soon as it is received,
	// before it waits for its chat's earlier updates: the bot starts the clock
	// of a button press's answer there. It must not block. It returns false
	// for an update not to be handled at all (its sender is being ignored):
	// that one is confirmed with the next offset and waits in no lane.
	Arrived func(ctx context.Context, u Update) bool
	Logger  *slog.Logger
	// Timeout is the long-poll timeout; 0 means 30 s.
	Timeout time.Duration
	// Grace is how long handlers of updates in hand may go on once Run's context
	// ends, before their own context is cancelled; 0 means 4 s.
	Grace time.Duration
	// Retry is the first wait before an update whose handler failed is tried
	// again (it doubles up to 8 times that); 0 means 500 ms.
	Retry time.Duration
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
	if p.Retry <= 0 {
		p.Retry = 500 * time.Millisecond
	}
	return &Poller{caller: p.Caller, handle: p.Handler, arrived: p.Arrived, logger: p.Logger,
		timeout: p.Timeout, grace: p.Grace, retry: p.Retry,
		lanes: map[int64][]Update{}, pending: map[int]bool{}, known: map[int]bool{},
		newest: -1, changed: make(chan struct{})}
}

// idlePoll is how soon the poller asks again when an answer held only updates
// already in hand (Telegram answers at once while any is unconfirmed): new
// updates for other chats are seen within it.
const idlePoll = 200 * time.Millisecond

// Run polls until ctx is cancelled. Updates being handled when ctx ends are
// handled to the end, for up to the grace period (their handlers' context
// outlives ctx by that much); updates still waiting in a lane are left for the
// next start. Then the offset is confirmed to Telegram and Run returns nil. An
// update cut off by the grace period is not confirmed, so it comes again.
func (p *Poller) Run(ctx context.Context) error {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		time.AfterFunc(p.grace, cancel)
	})
	defer stop()
	if err := p.caller.Do(ctx, Raw{Name: "deleteWebhook", Values: Params{}}, nil); err != nil && ctx.Err() == nil {
		p.logger.Warn("delete webhook before polling", "err", err)
	}
	backoff := time.Second
	for ctx.Err() == nil {
		offset, busy, changed := p.state()
		timeout := p.timeout
		if busy {
			timeout = 0 // Telegram answers at once anyway: updates in hand are unconfirmed
		}
		var raws []json.RawMessage
		err := p.caller.Do(ctx, Raw{Name: "getUpdates", Values: Params{
			"offset":          strconv.Itoa(offset),
			"timeout":         strconv.Itoa(int(timeout / time.Second)),
			"allowed_updates": allowedUpdates,
		}}, &raws)
		if err != nil {
			if ctx.Err() != nil {
				break
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
		if p.accept(hctx, raws) == 0 && busy {
			// Only updates in hand came back: wait for one to finish, or a
			// moment for new ones.
			t := time.NewTimer(idlePoll)
			select {
			case <-ctx.Done():
			case <-changed:
			case <-t.C:
			}
			t.Stop()
		}
	}
	p.drain(hctx)
	p.confirm()
	return nil
}

// state returns the offset to send, whether updates are in hand, and a channel
// closed when one finishes.
func (p *Poller) state() (offset int, busy bool, changed <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offsetLocked(), len(p.pending) > 0, p.changed
}

// offsetLocked is the oldest update not finished, or past the newest fetched.
// It also forgets known updates below it: Telegram will not send them again
// (but for a redelivery, which the handled-update record then skips).
func (p *Poller) offsetLocked() int {
	off := p.newest + 1
	for id := range p.pending {
		off = min(off, id)
	}
	for id := range p.known {
		if id < off {
			delete(p.known, id)
		}
	}
	return max(off, 0)
}

// accept decodes each update of an answer on its own, so that one the bot cannot
// read (a field of a type a newer Bot API changed) is logged and skipped instead
// of failing the whole answer, and puts the new ones in their chats' lanes. It
// returns how many were new.
func (p *Poller) accept(ctx context.Context, raws []json.RawMessage) int {
	fresh := 0
	for _, raw := range raws {
		u, err := DecodeUpdate(raw)
		if err != nil {
			if u.UpdateID == 0 {
				p.logger.Error("skipped an update without a readable update_id", "err", err, "bytes", len(raw))
				continue
			}
		}
		p.mu.Lock()
		if p.known[u.UpdateID] {
			p.mu.Unlock()
			continue
		}
		fresh++
		p.known[u.UpdateID] = true
		p.newest = max(p.newest, u.UpdateID)
		p.mu.Unlock()
		if err != nil {
			p.logger.Error("skipped an update the bot cannot decode", "update_id", u.UpdateID, "err", err)
			continue
		}
		// Only Run's goroutine reads the offset, so an update not yet
		// pending here cannot be confirmed before it is.
		if p.arrived != nil && !p.arrived(ctx, u) {
			continue
		}
		p.mu.Lock()
		p.pending[u.UpdateID] = true
		chat := u.ChatID()
		p.lanes[chat] = append(p.lanes[chat], u)
		start := len(p.lanes[chat]) == 1
		if start {
			p.wg.Add(1)
		}
		p.mu.Unlock()
		if start {
			go p.lane(ctx, chat)
		}
	}
	return fresh
}

// moreWaitingKey carries, in a handler's context, whether more of its chat's
// updates wait behind it.
type moreWaitingKey struct{}

// MoreWaiting reports whether more updates of the chat wait behind the one
// being handled with ctx, in the poller's lane: its handler should then not
// wait for the chat's turn to send (a reply to a chat that sends faster than
// Telegram lets the bot answer), or the chat's later updates, and with them the
// offset, would wait as long. False outside the poller.
func MoreWaiting(ctx context.Context) bool {
	more, _ := ctx.Value(moreWaitingKey{}).(func() bool)
	return more != nil && more()
}

// lane handles a chat's updates in order until none is left. A failed update is
// tried again, with a growing wait, before the chat's later ones; other chats go
// on meanwhile. Once Run's ctx ended it takes no new update.
func (p *Poller) lane(ctx context.Context, chat int64) {
	defer p.wg.Done()
	ctx = context.WithValue(ctx, moreWaitingKey{}, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.lanes[chat]) > 1
	})
	for {
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			return
		}
		u := p.lanes[chat][0]
		p.mu.Unlock()

		for wait := p.retry; ; wait = min(wait*2, 8*p.retry) {
			err := p.handle(ctx, u)
			if err == nil {
				break
			}
			p.mu.Lock()
			stopped := p.stopped
			p.mu.Unlock()
			if stopped || ctx.Err() != nil {
				p.logger.Warn("update not handled before shutdown; it will come again", "update_id", u.UpdateID, "err", err)
				return
			}
			p.logger.Warn("update not handled; trying again", "update_id", u.UpdateID, "err", err, "retry_in", wait.String())
			sleep(ctx, wait)
		}

		p.mu.Lock()
		delete(p.pending, u.UpdateID)
		p.lanes[chat] = p.lanes[chat][1:]
		empty := len(p.lanes[chat]) == 0
		if empty {
			// In the same critical section as the check in accept, so that
			// an update arriving now starts a new lane.
			delete(p.lanes, chat)
		}
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		if empty {
			return
		}
	}
}

// drain waits for the lanes to return after Run's ctx ended: those handling an
// update finish it, or give up when ctx (the handlers' context, cancelled after
// the grace period) ends; a handler that ignores its context is not waited for
// beyond a second more, and its update stays unconfirmed.
func (p *Poller) drain(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.logger.Warn("updates still being handled after the grace period; they will come again")
	}
}

// confirmPause comes before the confirmation at shutdown (see confirm).
const confirmPause = 100 * time.Millisecond

// confirm tells Telegram that everything below the offset is handled: getUpdates
// confirms by offset, so without this call the last updates would come again at
// the next start (and be skipped there by the handled-update record). The long
// poll cancelled by the shutdown may still be open on Telegram's side; a 409 for
// it is tried again a few times.
func (p *Poller) confirm() {
	p.mu.Lock()
	offset := p.offsetLocked()
	p.mu.Unlock()
	if offset == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// A moment for Telegram to see the cancelled long poll's connection
	// closed, so that this call does not end it as a conflicting one.
	sleep(ctx, confirmPause)
	for attempt := 0; ; attempt++ {
		err := p.caller.Do(ctx, Raw{Name: "getUpdates", Values: Params{
			"offset": strconv.Itoa(offset), "timeout": "0", "limit": "1", "allowed_updates": allowedUpdates,
		}}, nil)
		if err == nil || errors.Is(err, context.Canceled) {
			return
		}
		if IsConflict(err) && attempt < 3 && ctx.Err() == nil {
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		p.logger.Warn("confirm updates at shutdown", "offset", offset, "err", err)
		return
	}
}

// DecodeUpdate decodes one update. When it cannot, the error says why and the
// Update still carries the update_id if that much could be read, so that the
// update can be skipped.
func DecodeUpdate(raw []byte) (Update, error) {
	var u Update
	err := json.Unmarshal(raw, &u)
	if err == nil {
		return u, nil
	}
	var id struct {
		UpdateID int `json:"update_id"`
	}
	_ = json.Unmarshal(raw, &id)
	return Update{UpdateID: id.UpdateID}, err
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
