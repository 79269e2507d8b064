// Package bot turns Telegram updates into actions on a cell: the middleware every
// update goes through (recovery, time limit, handled-once, the actor's language,
// cell and role), the routing table of commands, buttons and dialogue steps, and
// one handler file per concept (cells.go, roster.go, broadcast.go, help.go).
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/cellbot/cellbot/cell"
	"github.com/cellbot/cellbot/delivery"
	"github.com/cellbot/cellbot/storage"
	"github.com/cellbot/cellbot/telegram"
	"github.com/cellbot/cellbot/texts"
)

// Downloader fetches a file's content by file_id.
type Downloader interface {
	Download(ctx context.Context, fileID string, maxBytes int64) ([]byte, error)
}

// Deliverer queues messages (the delivery package): jobs to many members, and
// single replies that could not go at once.
type Deliverer interface {
	StartJob(ctx context.Context, job delivery.Job, msgs []delivery.Message) (int, error)
	Enqueue(ctx context.Context, msgs ...delivery.Message) (int, error)
}

// Params are the bot's dependencies.
type Params struct {
	Store    *storage.Store
	Telegram telegram.Caller // immediate replies and edits, within the rate limits
	Files    Downloader
	Delivery Deliverer
	Logger   *slog.Logger
	Now      func() time.Time

	BotUsername string
	OwnerIDs    []int64
	TimeZone    string // of new cells
	Lang        string // default language
}

// Bot handles updates.
type Bot struct {
	p      Params
	routes routes
}

// New builds a Bot.
func New(p Params) *Bot {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Lang == "" {
		p.Lang = texts.VI
	}
	if p.TimeZone == "" {
		p.TimeZone = "Asia/Ho_Chi_Minh"
	}
	b := &Bot{p: p}
	b.routes = b.newRoutes()
	return b
}

// Timeouts of one update.
const (
	updateTimeout = 30 * time.Second
	updateLease   = 2 * updateTimeout
	updateKeep    = 72 * time.Hour
)

// anonymousAdmin is the account Telegram shows as the sender of an anonymous
// group admin's messages.
const anonymousAdmin = "GroupAnonymousBot"

// errRetry marks a failure that should make Telegram deliver the update again.
var errRetry = errors.New("retry later")

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

// request is one update being handled, with what the bot knows of its sender.
type request struct {
	ctx context.Context
	b   *Bot
	log *slog.Logger

	update telegram.Update
	msg    *telegram.Message // the message, or the message under the pressed button
	cb     *telegram.CallbackQuery
	from   telegram.User
	chat   telegram.Chat

	cmd  string // "members" for "/members@bot 2"
	args string // "2"

	lang     string
	cell     *cell.Cell   // the group's cell, or the user's cell in a private chat
	member   *cell.Member // the sender's member record in that cell
	owner    bool
	answered bool
	sent     int    // messages sent so far, to name queued replies
	button   button // the pressed button, decoded
}

func (b *Bot) newRequest(ctx context.Context, log *slog.Logger, u telegram.Update) (*request, bool) {
	r := &request{ctx: ctx, b: b, log: log, update: u}
	switch {
	case u.Message != nil && u.Message.From != nil:
		r.msg, r.from, r.chat = u.Message, *u.Message.From, u.Message.Chat
		text := u.Message.Text
		if text == "" && u.Message.Document != nil {
			text = u.Message.Caption
		}
		r.cmd, r.args = parseCommand(text, b.p.BotUsername)
	case u.CallbackQuery != nil:
		r.cb, r.from = u.CallbackQuery, u.CallbackQuery.From
		r.msg = u.CallbackQuery.Message
		if r.msg != nil {
			r.chat = r.msg.Chat
		} else {
			r.chat = telegram.Chat{ID: r.from.ID, Type: telegram.ChatPrivate}
		}
	default:
		return nil, false // kinds the bot does not act on
	}
	if r.from.IsBot {
		// An anonymous group admin's commands come from this bot account: the
		// sender cannot be told apart, so say so rather than stay silent.
		if r.from.Username == anonymousAdmin && r.cmd != "" && r.msg != nil {
			r.log = log
			r.lang = b.p.Lang
			r.reply(r.t(texts.CommonAnonymous))
		}
		return nil, false
	}
	r.log = log.With("user_id", r.from.ID, "chat_id", r.chat.ID)
	return r, true
}

// parseCommand splits "/cmd@bot args" into "cmd" and "args". A command addressed
// to another bot, or text that is no command, gives "".
func parseCommand(text, botUsername string) (cmd, args string) {
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	head, rest := text[1:], ""
	if i := strings.IndexAny(text, " \n\t"); i >= 0 {
		head, rest = text[1:i], text[i+1:]
	}
	name, target, addressed := strings.Cut(head, "@")
	if addressed && !strings.EqualFold(target, botUsername) {
		return "", ""
	}
	return strings.ToLower(name), strings.TrimSpace(rest)
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

func (r *request) kind() string {
	switch {
	case r.cb != nil:
		return "callback"
	case r.cmd != "":
		return "command /" + r.cmd
	}
	return "message"
}

func (r *request) role() cell.Role {
	if r.member == nil {
		return cell.RoleMember
	}
	return r.member.Role
}

func (r *request) isCommittee() bool { return r.member != nil && r.member.Role.IsCommittee() }

func (r *request) t(key texts.Key, args ...any) string { return texts.T(r.lang, key, args...) }

// send sends a message and returns it. When the chat is paused by Telegram's
// limits (our own limiter's wait, or a 429), the message is queued instead of dropped (and the zero Message is
// returned); other failures are logged, since the handler's own work is done.
func (r *request) send(chatID int64, text string, kb *telegram.InlineKeyboardMarkup) (telegram.Message, error) {
	var m telegram.Message
	req := telegram.SendMessage{ChatID: chatID, Text: text, Keyboard: kb}
	r.sent++
	err := r.b.p.Telegram.Do(r.ctx, req, &m)
	_, flood := telegram.RetryAfter(err)
	if (flood || errors.Is(err, delivery.ErrRateLimited)) && r.update.UpdateID != 0 {
		_, qerr := r.b.p.Delivery.Enqueue(r.ctx, delivery.Message{
			ID:       fmt.Sprintf("reply:%s:%d", r.update.Key(), r.sent),
			To:       delivery.Recipient{ChatID: chatID},
			Parts:    []telegram.Raw{delivery.RawOf(req)},
			Purpose:  "reply",
			Priority: delivery.Urgent,
		})
		if qerr == nil {
			return telegram.Message{}, nil
		}
		err = fmt.Errorf("%w; queueing it: %w", err, qerr)
	}
	if err != nil {
		r.log.Warn("send message", "to", chatID, "err", err)
	}
	return m, err
}

// reply answers in the chat the update came from.
func (r *request) reply(text string) { r.replyKB(text, nil) }

func (r *request) replyKB(text string, kb *telegram.InlineKeyboardMarkup) {
	_, _ = r.send(r.chat.ID, text, kb)
}

// edit replaces the text and buttons of the message under the pressed button.
func (r *request) edit(text string, kb *telegram.InlineKeyboardMarkup) {
	if r.msg == nil {
		r.replyKB(text, kb)
		return
	}
	err := r.b.p.Telegram.Do(r.ctx, telegram.EditMessageText{ChatID: r.msg.Chat.ID, MessageID: r.msg.MessageID, Text: text, Keyboard: kb}, nil)
	if err != nil && !telegram.IsNotModified(err) {
		r.log.Warn("edit message", "err", err)
	}
}

// removeButtons takes the buttons off the message under the pressed button.
func (r *request) removeButtons() {
	if r.msg == nil {
		return
	}
	err := r.b.p.Telegram.Do(r.ctx, telegram.EditMessageReplyMarkup{ChatID: r.msg.Chat.ID, MessageID: r.msg.MessageID}, nil)
	if err != nil && !telegram.IsNotModified(err) {
		r.log.Warn("remove buttons", "err", err)
	}
}

// answerCallback stops the button's spinner. Telegram wants it within seconds.
func (r *request) answerCallback(text string, alert bool) {
	if r.cb == nil || r.answered {
		return
	}
	r.answered = true
	err := r.b.p.Telegram.Do(r.ctx, telegram.AnswerCallbackQuery{ID: r.cb.ID, Text: text, Alert: alert}, nil)
	if err != nil {
		r.log.Warn("answer callback", "err", err)
	}
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
