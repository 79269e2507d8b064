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

// limitedMethods are the methods Telegram's flood limits count (LIBRARIES.md).
var limitedMethods = map[string]bool{
	"sendMessage": true, "sendDocument": true, "sendPhoto": true, "sendVideo": true,
	"sendAudio": true, "sendVoice": true, "sendAnimation": true, "sendSticker": true,
	"sendMediaGroup": true, "sendLocation": true, "sendContact": true, "sendPoll": true,
	"copyMessage": true, "forwardMessage": true, "editMessageText": true,
	"editMessageCaption": true, "editMessageMedia": true, "editMessageReplyMarkup": true,
}

// Do implements telegram.Caller.
func (l *Limited) Do(ctx context.Context, req telegram.Request, result any) error {
	if !limitedMethods[req.Method()] {
		return l.next.Do(ctx, req, result)
	}
	// chat_id is a number for every chat the bot writes to; an inline message
	// (no chat_id) counts on the global limit only.
	chat, _ := strconv.ParseInt(req.Params()["chat_id"], 10, 64)
	for attempt := 0; ; attempt++ {
		wait, reached, err := reserve(ctx, l.store, l.now, chat, l.limits, l.maxWait)
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
		if _, perr := l.store.PauseChat(ctx, l.now(), chat, ra, l.limits); perr != nil {
			l.log.Warn("delivery: pause after 429", "err", perr)
		}
		if attempt > 0 || ra > l.maxWait {
			return err
		}
	}
}
