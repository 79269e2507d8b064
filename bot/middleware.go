package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// HandleUpdate is the entry point for an update from the poller or the webhook. It
// returns an error only when the update must come again (Redis is unreachable, or
// another process is handling it right now).
func (b *Bot) HandleUpdate(ctx context.Context, u telegram.Update) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	log := b.p.Logger.With("update_id", u.UpdateID)
	key := u.Key()
	state, err := b.p.Store.ClaimUpdate(ctx, key, updateLease)
	if err != nil {
		return fmt.Errorf("bot: claim update %d: %w", u.UpdateID, err)
	}
	switch state {
	case storage.UpdateDone:
		log.Debug("update handled before; skipped")
		return nil
	case storage.UpdateInProgress:
		return fmt.Errorf("bot: update %d is being handled elsewhere: %w", u.UpdateID, errRetry)
	}
	err = b.handle(ctx, log, u)
	if err != nil && (errors.Is(err, errRetry) || b.redisDown(ctx)) {
		// Redis is down: let the update come again once it is back.
		if rerr := b.p.Store.ReleaseUpdate(context.WithoutCancel(ctx), key); rerr != nil {
			log.Warn("release update", "err", rerr)
		}
		return fmt.Errorf("bot: update %d: %w", u.UpdateID, err)
	}
	if err := b.p.Store.FinishUpdate(context.WithoutCancel(ctx), key, updateKeep); err != nil {
		// Handled already: coming again would repeat its replies. The claim's
		// lease still keeps a redelivery away for a while.
		log.Error("record update as handled", "err", err)
	}
	return nil
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
func (b *Bot) handle(ctx context.Context, log *slog.Logger, u telegram.Update) (err error) {
	r, ok := b.newRequest(ctx, log, u)
	if !ok {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic in handler", "panic", p, "stack", string(debug.Stack()))
			err = nil
			b.reportError(r, errors.New("panic"))
		}
		if r.cb != nil && !r.answered {
			r.answerCallback("", false)
		}
	}()
	if err := b.loadActor(r); err != nil {
		b.reportError(r, err)
		return err
	}
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

// loadActor finds the sender's language, cell, member record and role.
func (b *Bot) loadActor(r *request) error {
	ctx := r.ctx
	r.owner = slices.Contains(b.p.OwnerIDs, r.from.ID)
	lang, err := b.p.Store.UserLang(ctx, r.from.ID)
	if err != nil {
		return err
	}
	switch {
	case lang != "":
		r.lang = lang
	case texts.Lang(r.from.LanguageCode) == texts.EN:
		r.lang = texts.EN
	default:
		r.lang = b.p.Lang
	}
	var c cell.Cell
	if r.chat.IsGroup() {
		c, err = b.p.Store.CellByChat(ctx, r.chat.ID)
	} else {
		var id int64
		id, err = b.p.Store.UserCell(ctx, r.from.ID)
		if err == nil && id == 0 {
			err = storage.ErrNotFound
		}
		if err == nil {
			c, err = b.p.Store.Cell(ctx, id)
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r.cell = &c
	m, err := b.p.Store.MemberByUser(ctx, c.ID, r.from.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r.member = &m
	return nil
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
