package bot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// HandleUpdate is the entry point for an update from the poller or the webhook. It
// returns an error only when the update must come again: Redis is unreachable,
// another process is handling it right now, or ctx ended (shutdown) before the
// handler finished.
//
// The claim of the update is a short lease (updateLease), renewed while the
// handler runs, so that after a crash another process (or the restarted one)
// takes the update up within seconds.
func (b *Bot) HandleUpdate(ctx context.Context, u telegram.Update) (err error) {
	if u.CallbackQuery != nil {
		defer func() {
			if err == nil {
				// Handled (and answered). A press that comes again keeps
				// its entry, so that its early answer still comes.
				b.presses.forget(u.CallbackQuery.ID)
			}
		}()
	}
	hctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	log := b.p.Logger.With("update_id", u.UpdateID)
	r, ok := b.newRequest(hctx, log, u)
	if !ok {
		// A kind the bot does not act on, or an update it cannot answer:
		// nothing to claim. A press of it is answered all the same, or its
		// spinner would turn on.
		if q := u.CallbackQuery; q != nil && q.ID != "" && b.presses.take(q.ID) {
			// No record of it is kept: a press the bot cannot use leaves
			// nothing in Redis.
			if err := b.p.Telegram.Do(hctx, telegram.AnswerCallbackQuery{ID: q.ID}, nil); err != nil {
				log.Debug("answer a press not handled", "err", err)
			}
		}
		return nil
	}
	key, token := u.Key(), newToken()
	start, err := b.p.Store.StartUpdate(hctx, r.start(key, token))
	if err != nil {
		return fmt.Errorf("bot: claim update %d: %w", u.UpdateID, err)
	}
	switch start.State {
	case storage.UpdateDone:
		log.Debug("update handled before; skipped")
		return nil
	case storage.UpdateInProgress:
		return fmt.Errorf("bot: update %d is being handled elsewhere: %w", u.UpdateID, errRetry)
	}
	if start.Flood.State != storage.FloodOK {
		b.ignore(r, start)
		return nil
	}
	stopRenew := b.keepClaim(hctx, log, key, token)
	err = b.handle(r, start)
	stopRenew()
	release := func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer rcancel()
		if rerr := b.p.Store.ReleaseUpdate(rctx, key, token); rerr != nil {
			log.Warn("release update", "err", rerr)
		}
	}
	if ctx.Err() != nil {
		// Cut off by shutdown: whatever it did not do yet is done when it
		// comes again (replies queued with ids from the update's key are
		// not sent twice).
		release()
		return fmt.Errorf("bot: update %d cut off: %w", u.UpdateID, ctx.Err())
	}
	if err != nil && (errors.Is(err, errRetry) || b.redisDown(hctx)) {
		// Redis is down: let the update come again once it is back.
		release()
		return fmt.Errorf("bot: update %d: %w", u.UpdateID, err)
	}
	if err := b.p.Store.FinishUpdate(context.WithoutCancel(hctx), key, updateKeep); err != nil {
		// Handled already: coming again would repeat its replies. The claim's
		// lease still keeps a redelivery away for a while.
		log.Error("record update as handled", "err", err)
	}
	return nil
}

// keepClaim renews the update's lease while its handler runs, until the
// returned stop is called.
func (b *Bot) keepClaim(ctx context.Context, log *slog.Logger, key, token string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(updateLease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ok, err := b.p.Store.RenewUpdate(ctx, key, token, updateLease)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("renew the update's lease", "err", err)
			case err == nil && !ok:
				log.Warn("the update's lease ended before its handler did")
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// newToken names one handling of an update in its claim.
func newToken() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// redisDown tells a failure that may be Redis's from a bug: with Redis down the
// update must come again; otherwise it is handled (and was answered).
func (b *Bot) redisDown(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return b.p.Store.Ping(pctx) != nil
}

// handle runs one update and reports what went wrong to the user. It returns the
// error only when it might be Redis's fault, for HandleUpdate to decide.
func (b *Bot) handle(r *request, start storage.Started) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic in handler", "panic", p, "stack", string(debug.Stack()))
			err = nil
			b.reportError(r, errors.New("panic"))
		}
		if r.cb != nil && !r.answered {
			r.answerCallback("", false)
		}
	}()
	if r.anonymous {
		// An anonymous group admin's commands come from this bot account: the
		// sender cannot be told apart, so say so rather than stay silent.
		r.lang = b.p.Lang
		r.reply(r.t(texts.CommonAnonymous))
		return nil
	}
	b.useActor(r, start)
	err = b.routes.dispatch(r)
	if err == nil {
		return nil
	}
	if text, ok := userMessage(r.lang, err); ok {
		if r.cb != nil {
			r.answerCallback(text, true)
		} else {
			r.reply(text)
		}
		return nil
	}
	b.reportError(r, err)
	return err
}

func (b *Bot) reportError(r *request, err error) {
	r.log.Error("handling update", "err", err, "kind", r.kind())
	if r.cb != nil {
		r.answerCallback(texts.T(r.lang, texts.CommonError), true)
		return
	}
	r.reply(texts.T(r.lang, texts.CommonError))
}

// useActor takes in what StartUpdate read of the sender: language, cell,
// member record, and whether a reply to the chat is still queued.
func (b *Bot) useActor(r *request, start storage.Started) {
	a := start.Actor
	r.owner = slices.Contains(b.p.OwnerIDs, r.from.ID)
	r.lang = b.lang(r, a.Lang)
	r.cell, r.member = a.Cell, a.Member
	if r.cell != nil {
		r.log = r.log.With("cell", r.cell.ID) // every line of the update names its cell
	}
	r.setQueue(r.chat.ID, start.RepliesQueued)
}

// telegramLang is a user's Telegram language as the bot keeps it for them:
// "en" for English, storage.NoTelegramLang for any other (the cell's language
// then, Vietnamese by default), "" when the update does not say.
func telegramLang(u telegram.User) string {
	switch {
	case u.LanguageCode == "":
		return ""
	case texts.Lang(u.LanguageCode) == texts.EN:
		return texts.EN
	}
	return storage.NoTelegramLang
}

// lang is the sender's language: the one they chose (chosen, "" when none),
// else their Telegram's when the bot speaks it, else the default.
func (b *Bot) lang(r *request, chosen string) string {
	switch {
	case chosen != "":
		return chosen
	case texts.Lang(r.from.LanguageCode) == texts.EN:
		return texts.EN
	}
	return b.p.Lang
}

// userMessage renders an error meant for the user, in their language.
func userMessage(lang string, err error) (string, bool) {
	var le *lineErr
	if errors.As(err, &le) {
		return texts.T(lang, texts.ImportBadLine, le.line, texts.T(lang, le.reason.Key, le.reason.Args...)), true
	}
	var ue *texts.Err
	if errors.As(err, &ue) {
		return texts.T(lang, ue.Key, ue.Args...), true
	}
	return "", false
}
