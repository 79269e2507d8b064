package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

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
	sent     int            // messages sent so far, to name queued replies
	queues   map[int64]bool // chats where a reply (maybe this update's) waits in the queue
	button   button         // the pressed button, decoded
	thread   int            // the forum topic the message came from; replies go there
	// cellHint is the cell a pressed button names, when its route checks the
	// presser's place in that cell: the cell read as the update starts.
	cellHint  int64
	anonymous bool // a command of an anonymous group admin, who cannot be told apart
	// cellTag heads the replies in this private chat when they must name the
	// cell ("[Chi bộ 3] "): the sender belongs to several cells.
	cellTag string
}

// start is what StartUpdate claims and reads for the request.
func (r *request) start(key, token string) storage.UpdateStart {
	u := storage.UpdateStart{Key: key, Token: token, Lease: updateLease, UserID: r.from.ID, CellID: r.cellHint, ChatID: r.chat.ID,
		TelegramLang: telegramLang(r.from)}
	if r.chat.IsGroup() {
		u.GroupChatID = r.chat.ID
	}
	if !r.anonymous {
		// Anonymous admins all write as one account: they cannot be told
		// apart to be counted.
		u.Flood = r.b.p.Flood
	}
	return u
}

func (b *Bot) newRequest(ctx context.Context, log *slog.Logger, u telegram.Update) (*request, bool) {
	if u.Message == nil && u.CallbackQuery == nil && u.MyChatMember == nil {
		return nil, false // kinds the bot does not act on
	}
	if what := unusable(u); what != "" {
		// Telegram sends no such update; whoever made it gets no answer, and
		// above all none in a chat made up from the missing fields (chat 0).
		log.Warn("skipped an update without what handling it needs", "kind", u.Kind(), "problem", what)
		return nil, false
	}
	r := &request{ctx: ctx, b: b, log: log, update: u}
	switch {
	case u.Message != nil:
		// Every piece of user text in NFC, so that letters typed with their
		// marks apart match the same letters precomposed.
		u.Message.Text, u.Message.Caption = cell.NFC(u.Message.Text), cell.NFC(u.Message.Caption)
		r.msg, r.from, r.chat = u.Message, *u.Message.From, u.Message.Chat
		text := u.Message.Text
		if text == "" && u.Message.Document != nil {
			text = u.Message.Caption
		}
		if !u.Message.Forwarded() {
			// A forwarded command is someone else's words, not an order.
			r.cmd, r.args = parseCommand(text, b.p.BotUsername)
		}
		if u.Message.IsTopicMessage {
			r.thread = u.Message.MessageThreadID
		}
	case u.CallbackQuery != nil:
		r.cb, r.from = u.CallbackQuery, u.CallbackQuery.From
		r.msg = u.CallbackQuery.Message
		r.chat = r.msg.Chat
		if r.msg.IsTopicMessage {
			r.thread = r.msg.MessageThreadID
		}
	case u.MyChatMember != nil:
		// The bot's own membership of a chat changed.
		r.from, r.chat = u.MyChatMember.From, u.MyChatMember.Chat
	}
	r.from.FirstName, r.from.LastName = cell.NFC(r.from.FirstName), cell.NFC(r.from.LastName)
	if r.from.IsBot {
		// An anonymous group admin's commands come from this bot account: the
		// sender cannot be told apart, so say so rather than stay silent.
		if r.from.Username == anonymousAdmin && r.cmd != "" && r.msg != nil {
			r.log, r.anonymous = log, true
			return r, true
		}
		return nil, false
	}
	r.log = log.With("user_id", r.from.ID, "chat_id", r.chat.ID)
	if r.cb != nil {
		r.cellHint = b.routes.buttonCell(r.cb.Data)
	}
	return r, true
}

// unusable says what an update lacks that handling it needs, "" when nothing:
// a sender, and a chat to answer in, which is the sender's own when private. A
// press needs the message under its button (the bot sends no inline messages,
// whose presses come without one), and it is answered on arrival all the same.
func unusable(u telegram.Update) string {
	chatOK := func(c telegram.Chat, from int64, kinds ...string) string {
		switch {
		case c.ID == 0:
			return "no chat"
		case !slices.Contains(kinds, c.Type):
			return "a chat of no known type"
		case c.IsPrivate() && c.ID != from:
			return "a private chat that is not the sender's"
		}
		return ""
	}
	switch {
	case u.Message != nil:
		if u.Message.From == nil || u.Message.From.ID == 0 {
			return "no sender"
		}
		return chatOK(u.Message.Chat, u.Message.From.ID, telegram.ChatPrivate, telegram.ChatGroup, telegram.ChatSupergroup)
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		switch {
		case q.ID == "":
			return "no query id"
		case q.From.ID == 0:
			return "no sender"
		case q.Message == nil:
			return "no message under the button"
		}
		return chatOK(q.Message.Chat, q.From.ID, telegram.ChatPrivate, telegram.ChatGroup, telegram.ChatSupergroup)
	case u.MyChatMember != nil:
		if u.MyChatMember.From.ID == 0 {
			return "no sender"
		}
		return chatOK(u.MyChatMember.Chat, u.MyChatMember.From.ID, telegram.ChatPrivate, telegram.ChatGroup, telegram.ChatSupergroup, telegram.ChatChannel)
	}
	return ""
}

// parseCommand splits "/cmd@bot args" into "cmd" and "args". A command addressed
// to another bot, or text that is no command, gives "".
func parseCommand(text, botUsername string) (cmd, args string) {
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	head, rest := text[1:], ""
	// Any space ends the command's name: a phone may put a no-break space there.
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		_, size := utf8.DecodeRuneInString(text[i:])
		head, rest = text[1:i], text[i+size:]
	}
	name, target, addressed := strings.Cut(head, "@")
	if addressed && !strings.EqualFold(target, botUsername) {
		return "", ""
	}
	return strings.ToLower(name), strings.TrimFunc(rest, unicode.IsSpace)
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
// limits (our own limiter's wait, or a 429), the message is queued instead of
// dropped (and the zero Message is returned); other failures are logged, since
// the handler's own work is done.
func (r *request) send(chatID int64, text string, kb *telegram.InlineKeyboardMarkup) (telegram.Message, error) {
	if chatID == r.chat.ID && r.cellTag != "" {
		text = r.cellTag + text
	}
	// A text over Telegram's limit (the committee's English /help comes close)
	// goes in parts, the buttons under the last; the last part is returned.
	parts := texts.SplitHTML(text, texts.MaxMessage)
	var m telegram.Message
	var err error
	for i, part := range parts {
		req := telegram.SendMessage{ChatID: chatID, Text: part}
		if i == len(parts)-1 {
			req.Keyboard = kb
		}
		if chatID == r.chat.ID {
			req.ThreadID = r.thread
		}
		m = telegram.Message{}
		var queued bool
		if queued, err = r.call(chatID, req, &m); queued {
			m = telegram.Message{}
		}
		if err != nil {
			r.log.Warn("send message", "to", chatID, "err", err)
		}
	}
	return m, err
}

// call makes a request that Telegram's flood limits count (a message or an
// edit) for the update:
//   - a button press is answered first, so that it never waits for the chat's
//     slot; and the press's own calls do not wait for one at all (its chat's
//     later presses wait behind it), they are queued instead;
//   - while the queue sends or holds something urgent for the chat (a reply of
//     an earlier update, or this one's), the request joins the chat's lane
//     behind it: the queue sends a chat's messages one at a time, in order;
//   - while more of the chat's updates wait behind this one
//     (telegram.MoreWaiting), it does not wait for the chat's slot either
//     (only, for a moment, for the overall limit's: Params.Backlog): they
//     would wait as long, and with them the poller's offset, so one chat that
//     sends faster than Telegram lets the bot answer would hold back the
//     others; it is queued instead;
//   - a request the limit holds back is queued (storage.PriorityUrgent, an id
//     from the update's key so a redelivery does not send it twice).
func (r *request) call(chatID int64, req telegram.Request, result any) (queued bool, err error) {
	return r.callNamed(chatID, req, result, "")
}

// callNamed is call for a message whose id later requests refer to: name is
// where the id is recorded (delivery.Message.Result), whether the message
// goes at once or through the queue.
func (r *request) callNamed(chatID int64, req telegram.Request, result any, name string) (queued bool, err error) {
	if r.cb != nil && !r.answered {
		r.answerCallback("", false)
	}
	r.sent++
	queued, known := r.queues[chatID]
	if !known && r.update.UpdateID != 0 {
		q, qerr := r.b.p.Store.ChatQueued(r.ctx, chatID)
		if qerr != nil {
			r.log.Warn("look for queued replies", "to", chatID, "err", qerr)
		} else {
			queued = q
			r.setQueue(chatID, q)
		}
	}
	if !queued {
		caller := r.b.p.Telegram
		switch {
		case r.cb != nil && r.b.p.Immediate != nil:
			caller = r.b.p.Immediate
		case telegram.MoreWaiting(r.ctx) && r.b.p.Backlog != nil:
			caller = r.b.p.Backlog
		}
		var sent telegram.Message
		if name != "" && result == nil {
			result = &sent
		}
		err = caller.Do(r.ctx, req, result)
		if m, ok := result.(*telegram.Message); ok && err == nil && name != "" {
			if rerr := r.b.p.Store.SetQueueResult(r.ctx, name, m.MessageID); rerr != nil {
				return false, rerr
			}
		}
		_, flood := telegram.RetryAfter(err)
		if !(flood || errors.Is(err, delivery.ErrRateLimited)) || r.update.UpdateID == 0 {
			return false, err
		}
	}
	id := fmt.Sprintf("reply:%s:%d", r.update.Key(), r.sent)
	_, qerr := r.b.p.Delivery.Enqueue(r.ctx, delivery.Message{
		ID:       id,
		To:       storage.QueueRecipient{ChatID: chatID},
		Parts:    []telegram.Raw{delivery.RawOf(req)},
		Purpose:  "reply",
		Priority: storage.PriorityUrgent,
		Result:   name,
	})
	if qerr != nil {
		if err == nil {
			return false, fmt.Errorf("queue %s: %w", req.Method(), qerr)
		}
		return false, fmt.Errorf("%w; queueing it: %w", err, qerr)
	}
	r.setQueue(chatID, true)
	return true, nil
}

// setQueue records whether the chat's later replies of this update join its
// lane.
func (r *request) setQueue(chatID int64, queued bool) {
	if r.queues == nil {
		r.queues = map[int64]bool{}
	}
	r.queues[chatID] = queued
}

// reply answers in the chat the update came from.
func (r *request) reply(text string) { r.replyKB(text, nil) }

func (r *request) replyKB(text string, kb *telegram.InlineKeyboardMarkup) {
	_, _ = r.send(r.chat.ID, text, kb)
}

// result shows the outcome of an action: for a button press, in place of the
// message with the buttons (one action, one message); else as a reply.
func (r *request) result(text string) {
	if r.cb != nil && r.msg != nil {
		r.edit(text, nil)
		return
	}
	r.reply(text)
}

// edit replaces the text and buttons of the message under the pressed button.
func (r *request) edit(text string, kb *telegram.InlineKeyboardMarkup) {
	if r.msg == nil {
		r.replyKB(text, kb)
		return
	}
	_, err := r.call(r.msg.Chat.ID, telegram.EditMessageText{ChatID: r.msg.Chat.ID, MessageID: r.msg.MessageID, Text: text, Keyboard: kb}, nil)
	if err != nil && !telegram.IsNotModified(err) {
		r.log.Warn("edit message", "err", err)
	}
}

// removeButtons takes the buttons off the message under the pressed button.
func (r *request) removeButtons() {
	if r.msg == nil || r.msg.ReplyMarkup == nil || len(r.msg.ReplyMarkup.InlineKeyboard) == 0 {
		return
	}
	_, err := r.call(r.msg.Chat.ID, telegram.EditMessageReplyMarkup{ChatID: r.msg.Chat.ID, MessageID: r.msg.MessageID}, nil)
	if err != nil && !telegram.IsNotModified(err) {
		r.log.Warn("remove buttons", "err", err)
	}
}

// answerCallback stops the button's spinner. Telegram wants it within seconds.
// text is a text of the bot (HTML, user text in it escaped); Telegram shows it
// unformatted, so it goes as plain text, cut to fit (texts.MaxAlert). A name in
// it is best put through alertWithName, so that the text around it fits too.
// It reports whether the press got this answer (it was not answered before).
func (r *request) answerCallback(text string, alert bool) bool {
	if r.cb == nil || r.answered {
		return false
	}
	text = texts.Cut(texts.Plain(text), texts.MaxAlert)
	r.answered = true
	if !r.b.presses.take(r.cb.ID) {
		if text != "" {
			r.log.Debug("press answered before its handler's text", "text", text)
		}
		return false
	}
	err := r.b.answerPress(r.ctx, telegram.AnswerCallbackQuery{ID: r.cb.ID, Text: text, Alert: alert})
	if err != nil {
		r.log.Warn("answer callback", "err", err)
	}
	return true
}

// alertWithName is key's text for answerCallback with a user-given name as its
// first argument and rest after it: the name escaped as in any text of the bot
// (answerCallback decodes it), and shortened so that the whole text fits in an
// answer to a button press.
func (r *request) alertWithName(key texts.Key, name string, rest ...any) string {
	room := texts.MaxAlert - texts.Len(texts.Plain(r.t(key, append([]any{""}, rest...)...)))
	return r.t(key, append([]any{texts.Escape(texts.Cut(name, room))}, rest...)...)
}
