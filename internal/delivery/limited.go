package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// ErrRateLimited is returned (wrapped) by Limited when a send would have to wait
// longer than its MaxWait: the chat is paused by a 429 or busy (a group's 20 a
// minute). The caller decides: drop an edit of live counts, or queue the message.
var ErrRateLimited = errors.New("delivery: rate limited")

// Limited is a telegram.Caller for immediate replies and edits that keeps the same
// Redis flood limits as the queue: before a sending method (sendMessage,
// sendDocument, editMessageText, …) it reserves a slot on the global limit and the
// chat's, waiting up to MaxWait; other methods (answerCallbackQuery, getChat, …)
// go straight through. On a 429 whose retry_after is at most MaxWait it pauses the
// chat and retries once. If Redis fails, it sends anyway: a reply matters more
// than the limit.
type Limited struct {
	store   *storage.Store
	next    telegram.Caller
	limits  storage.RateLimits
	maxWait time.Duration
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics
}

// limitedMethods are the methods Telegram's flood limits count (the Bot FAQ).
var limitedMethods = map[string]bool{
	"sendMessage": true, "sendDocument": true, "sendPhoto": true, "sendVideo": true,
	"sendAudio": true, "sendVoice": true, "sendAnimation": true, "sendSticker": true,
	"sendMediaGroup": true, "sendLocation": true, "sendContact": true, "sendPoll": true,
	"copyMessage": true, "forwardMessage": true, "editMessageText": true,
	"editMessageCaption": true, "editMessageMedia": true, "editMessageReplyMarkup": true,
}

// WithMaxWait returns a Limited like l that waits at most d in all for a
// rate-limit slot (0: not at all): a handler that must not hold its chat's
// later updates (a button press) queues instead.
func (l *Limited) WithMaxWait(d time.Duration) *Limited {
	c := *l
	c.maxWait = max(d, 0)
	return &c
}

// Do implements telegram.Caller. The wait for a slot is bounded in all, across
// the retry after a 429, by its MaxWait.
func (l *Limited) Do(ctx context.Context, req telegram.Request, result any) error {
	if !limitedMethods[req.Method()] {
		return l.next.Do(ctx, req, result)
	}
	deadline := l.now().Add(l.maxWait)
	// chat_id is a number for every chat the bot writes to; an inline message
	// (no chat_id) counts on the global limit only.
	chat, _ := strconv.ParseInt(req.Params()["chat_id"], 10, 64)
	for attempt := 0; ; attempt++ {
		left := max(deadline.Sub(l.now()), 0)
		wait, reached, err := reserve(ctx, l.store, l.now, chat, l.limits, left)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			l.log.Warn("delivery: reserve a direct send; sending anyway", "method", req.Method(), "err", err)
		case !reached:
			return fmt.Errorf("delivery: %s to %d: wait %s: %w", req.Method(), chat, wait, ErrRateLimited)
		}
		err = l.next.Do(ctx, req, result)
		ra, is429 := telegram.RetryAfter(err)
		if !is429 {
			return err
		}
		l.metrics.flood.Inc()
		if _, perr := l.store.PauseChat(ctx, redisClock, chat, ra, l.limits); perr != nil {
			l.log.Warn("delivery: pause after 429", "err", perr)
		}
		if attempt > 0 || ra > deadline.Sub(l.now()) {
			return err
		}
	}
}
