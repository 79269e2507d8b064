package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

const (
	dialogueJoinName = "join_name"
	dialogueTTL      = 30 * time.Minute
	maxNameLen       = 100
	maxPickButtons   = 8
)

// setup binds a group to a new cell; the caller becomes its secretary.
func (b *Bot) setup(r *request) error {
	name := cell.Clean(r.args)
	if name == "" && strings.TrimSpace(r.args) != "" {
		return texts.Errorf(texts.NameUnreadable, echo(r.args))
	}
	if name == "" {
		return texts.Errorf(texts.SetupUsage)
	}
	if utf8.RuneCountInString(name) > maxNameLen {
		return texts.Errorf(texts.CommonTooLong, utf8.RuneCountInString(name), maxNameLen)
	}
	if r.cell != nil {
		return texts.Errorf(texts.SetupAlready, texts.Escape(r.cell.Name))
	}
	allowed := r.owner
	if len(b.p.OwnerIDs) == 0 {
		var cm telegram.ChatMember
		if err := b.p.Telegram.Do(r.ctx, telegram.GetChatMember{ChatID: r.chat.ID, UserID: r.from.ID}, &cm); err != nil {
			return fmt.Errorf("check admin for /setup: %w", err)
		}
		allowed = cm.IsAdmin()
	}
	if !allowed {
		return texts.Errorf(texts.SetupNotAllowed)
	}
	// A group the bot was removed from gets its cell back, data and all.
	if c, err := b.p.Store.RebindChat(r.ctx, r.chat.ID); err == nil {
		r.log.Info("cell bound again to its group", "cell", c.ID)
		r.reply(r.t(texts.SetupRebound, texts.Escape(c.Name)))
		b.postJoin(r, c)
		return nil
	} else if errors.Is(err, storage.ErrAlreadyBound) {
		return texts.Errorf(texts.SetupAlready, texts.Escape(c.Name))
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	c, sec, err := b.p.Store.CreateCell(r.ctx, cell.Cell{
		Name: name, ChatID: r.chat.ID, TimeZone: b.p.TimeZone, Lang: r.lang, Quiet: cell.DefaultQuiet, Created: b.p.Now(),
	}, secretaryRecord(r.from))
	if errors.Is(err, storage.ErrAlreadyBound) {
		return texts.Errorf(texts.SetupAlready, texts.Escape(c.Name))
	}
	if err != nil {
		return err
	}
	r.log.Info("cell created", "cell", c.ID)
	r.syncMenus(c, sec)
	// Telegram lets the bot write privately only to who opened a chat with it:
	// the secretary gets a button for that with the confirmation.
	open := keyboard(row(telegram.InlineKeyboardButton{Text: r.t(texts.SetupOpenButton), URL: "https://t.me/" + b.p.BotUsername}))
	r.replyKB(r.t(texts.SetupDone, texts.Escape(c.Name), texts.Escape(sec.Name))+"\n\n"+r.t(texts.SetupOpenPrivate), open)
	b.postJoin(r, c)
	return nil
}

// secretaryRecord is the record /setup makes for its caller: their Telegram
// name, unlisted (not counted as a member) until /import links it to their
// roster entry, by that name in either order.
func secretaryRecord(u telegram.User) cell.Member {
	name := cell.Clean(u.FullName())
	if name == "" {
		name = cell.Clean(u.Username)
	}
	if name == "" {
		name = fmt.Sprint(u.ID)
	}
	m := cell.Member{Name: name, UserID: u.ID, Unlisted: true}
	if alias := cell.Clean(u.LastName + " " + u.FirstName); u.LastName != "" && alias != name {
		m.Alias = alias
	}
	return m
}

// echo is user text repeated in an answer: cut to cell.MaxEcho characters and
// escaped.
func echo(s string) string { return texts.Escape(cell.Short(cell.StripInvisible(s), cell.MaxEcho)) }

// joinPost shows the cell's join button in its group.
func (b *Bot) joinPost(r *request) error {
	b.postJoin(r, *r.cell)
	return nil
}

func (b *Bot) postJoin(r *request, c cell.Cell) {
	link := fmt.Sprintf("https://t.me/%s?start=%s", b.p.BotUsername, c.JoinToken)
	kb := keyboard(row(telegram.InlineKeyboardButton{Text: r.t(texts.JoinButton), URL: link}))
	r.replyKB(r.t(texts.JoinPost, texts.Escape(c.Name)), kb)
}

// start greets, and with a join payload starts joining that cell.
func (b *Bot) start(r *request) error {
	if !r.chat.IsPrivate() {
		return b.help(r)
	}
	if err := b.p.Store.SetOpened(r.ctx, r.from.ID); err != nil {
		return err
	}
	if r.member != nil {
		r.syncMenus(*r.cell, *r.member) // the chat may not have existed before
	}
	if r.args == "" {
		if r.member != nil {
			if err := b.p.Store.ClearUnreachable(r.ctx, r.cell.ID, r.member.ID); err != nil {
				return err
			}
			r.reply(r.t(texts.StartGreeting, texts.Escape(r.member.Name)))
			// Join requests that waited for a committee member to open the bot.
			return b.showPendingJoins(r)
		}
		r.reply(r.t(texts.StartGreeting, echo(cell.Clean(r.from.FullName()))) + "\n\n" + r.t(texts.CommonNoCellPrivate))
		return nil
	}
	c, err := b.p.Store.CellByJoinToken(r.ctx, r.args)
	if errors.Is(err, storage.ErrNotFound) {
		return texts.Errorf(texts.JoinBadLink)
	}
	if err != nil {
		return err
	}
	m, err := b.p.Store.MemberByUser(r.ctx, c.ID, r.from.ID)
	switch {
	case err == nil:
		if err := b.p.Store.AddUserCell(r.ctx, r.from.ID, c.ID); err != nil {
			return err
		}
		if err := b.p.Store.ClearUnreachable(r.ctx, c.ID, m.ID); err != nil {
			return err
		}
		return texts.Errorf(texts.JoinAlready, texts.Escape(c.Name), texts.Escape(m.Name))
	case !errors.Is(err, storage.ErrNotFound):
		return err
	}
	if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, storage.Dialogue{Kind: dialogueJoinName, CellID: c.ID}, dialogueTTL); err != nil {
		return err
	}
	r.reply(r.t(texts.JoinAskName, texts.Escape(c.Name)))
	return nil
}

// joinName takes the name a joining user typed and offers the roster entries
// that match it, or a request under that name.
func (b *Bot) joinName(r *request) error {
	d, err := b.p.Store.DialogueOf(r.ctx, r.from.ID)
	if err != nil {
		return err
	}
	name := cell.Clean(r.msg.Text)
	if name == "" && strings.TrimSpace(r.msg.Text) != "" {
		return texts.Errorf(texts.NameUnreadable, echo(r.msg.Text))
	}
	if n := utf8.RuneCountInString(name); n < 2 || n > maxNameLen {
		return texts.Errorf(texts.JoinNameInvalid)
	}
	roster, err := b.p.Store.Members(r.ctx, d.CellID)
	if err != nil {
		return err
	}
	free := unlinked(roster)
	d.Data = map[string]string{"name": name}
	if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, d, dialogueTTL); err != nil {
		return err
	}
	matches := joinCandidates(free, name)
	var rows [][]telegram.InlineKeyboardButton
	for i, m := range matches {
		if i == maxPickButtons {
			break
		}
		rows = append(rows, row(cb(r.t(texts.JoinMeButton, m.Name), verbJoinPick, d.CellID, m.ID)))
	}
	rows = append(rows, row(cb(r.t(texts.JoinNewButton, name), verbJoinNew, d.CellID, nameMark(name))))
	text := r.t(texts.JoinPick)
	if len(matches) == 0 {
		text = r.t(texts.JoinNotInList, texts.Escape(name))
	} else if len(matches) > maxPickButtons {
		text = r.t(texts.JoinPickFewer, len(matches), maxPickButtons)
	}
	r.replyKB(text, keyboard(rows...))
	return nil
}

func unlinked(roster []cell.Member) []cell.Member {
	var free []cell.Member
	for _, m := range roster {
		if m.UserID == 0 {
			free = append(free, m)
		}
	}
	return free
}

// joinCandidates are the roster entries offered to someone joining under name: a
// single word must match a whole name, so that one common word ("Văn") does not
// list the roster to whoever holds the link.
func joinCandidates(free []cell.Member, name string) []cell.Member {
	matches := cell.Match(free, name)
	if len(strings.Fields(name)) >= 2 {
		return matches
	}
	var exact []cell.Member
	for _, m := range matches {
		if cell.Fold(m.Name) == cell.Fold(name) {
			exact = append(exact, m)
		}
	}
	return exact
}

// joinPick records the join request and asks the committee to confirm it.
func (b *Bot) joinPick(r *request) error {
	cellID := r.button.arg(0)
	d, err := b.p.Store.DialogueOf(r.ctx, r.from.ID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (d.CellID != cellID || d.Kind != dialogueJoinName)) {
		r.answerCallback(r.t(texts.JoinButtonExpired), true)
		return nil
	}
	if err != nil {
		return err
	}
	c, err := b.p.Store.Cell(r.ctx, cellID)
	if err != nil {
		return err
	}
	req := storage.JoinRequest{UserID: r.from.ID, Name: d.Data["name"], Username: r.from.Username, Lang: r.lang,
		At: b.p.Now().UnixNano(), TGName: cell.Short(cell.Clean(r.from.FullName()), cell.MaxEcho)}
	// The button carries the name it was shown with (a fingerprint): a button
	// under an older answer cannot send the name typed since.
	if r.button.verb == verbJoinNew && r.button.arg(1) != nameMark(req.Name) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	if r.button.verb == verbJoinPick {
		m, err := b.p.Store.Member(r.ctx, cellID, r.button.arg(1))
		if errors.Is(err, storage.ErrNotFound) {
			r.answerCallback(r.t(texts.JoinButtonExpired), true)
			return nil
		}
		if err != nil {
			return err
		}
		if m.UserID != 0 && m.UserID != r.from.ID {
			r.edit(r.t(texts.JoinNameTaken, texts.Escape(m.Name)), nil)
			return nil
		}
		// Callback data is user input: only an entry the name offered may be claimed.
		roster, err := b.p.Store.Members(r.ctx, cellID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(joinCandidates(unlinked(roster), d.Data["name"]), func(c cell.Member) bool { return c.ID == m.ID }) {
			r.answerCallback(r.t(texts.JoinButtonExpired), true)
			return nil
		}
		req.MemberID, req.Name = m.ID, m.Name
	}
	if err := b.p.Store.AddJoinRequest(r.ctx, cellID, req); err != nil {
		return err
	}
	if _, err := b.p.Store.ClearDialogue(r.ctx, r.from.ID); err != nil {
		return err
	}
	r.answerCallback("", false)
	r.edit(r.t(texts.JoinSent), nil)
	if err := b.sweepJoins(r.ctx, c); err != nil {
		r.log.Warn("expire join requests", "err", err)
	}
	reachable, err := b.committeeReachable(r.ctx, c.ID)
	if err != nil {
		return err
	}
	if !reachable && c.ChatID != 0 {
		// Nobody on the committee opened the bot: say so in the group (no
		// names, and not at every request); the request waits, listed first in
		// /members, and reaches the committee member who opens the bot first.
		tell, err := b.p.Store.TellGroupNobodyHears(r.ctx, c.ID, unheardEvery)
		if err != nil {
			return err
		}
		if tell {
			_, _ = r.send(c.ChatID, texts.T(c.Lang, texts.JoinNoCommittee, b.p.BotUsername), nil)
		}
	}
	return b.notifyCommittee(r.ctx, c, "join:"+r.update.Key(), 0, false, func(lang string) (string, *telegram.InlineKeyboardMarkup) {
		return joinNotice(lang, c, req)
	})
}

// notifyCommittee queues a message to every committee member with Telegram but
// except, each in their own language, with ids "<id>:<member>" so that an update
// handled again sends nothing twice. When nobody on the committee has Telegram,
// the message goes to the cell's group if toGroup allows. A text over
// Telegram's limit (a /close summary with many excuses) goes in several
// messages (delivery.Split), cut between lines where it can be, with the
// keyboard on the last: no tag of build's text may stay open across a line
// break, nor across a space in a line longer than a message.
func (b *Bot) notifyCommittee(ctx context.Context, c cell.Cell, id string, except int64, toGroup bool, build func(lang string) (string, *telegram.InlineKeyboardMarkup)) error {
	roster, err := b.p.Store.Members(ctx, c.ID)
	if err != nil {
		return err
	}
	var msgs []delivery.Message
	add := func(to cell.Member, chatID int64, lang string) {
		text, kb := build(lang)
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:%d", id, to.ID),
			To:       storage.QueueRecipient{CellID: c.ID, MemberID: to.ID, ChatID: chatID, Name: to.Name},
			Parts:    delivery.TextParts(chatID, delivery.Split(text, delivery.MaxText), kb),
			Purpose:  "committee notice",
			Priority: storage.PriorityUrgent,
		})
	}
	var committee []cell.Member
	for _, m := range roster {
		if m.Role.IsCommittee() && m.UserID != 0 && m.ID != except {
			committee = append(committee, m)
		}
	}
	langs, err := b.langsOf(ctx, c, committee)
	if err != nil {
		return err
	}
	for _, m := range committee {
		add(m, m.UserID, langs[m.UserID])
	}
	if len(msgs) == 0 && toGroup && c.ChatID != 0 {
		add(cell.Member{}, c.ChatID, c.Lang)
	}
	if len(msgs) == 0 {
		return nil
	}
	if _, err := b.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("queue a notice to the committee of cell %d: %w", c.ID, err)
	}
	return nil
}

// langsOf is each member's language by Telegram user id, in one round trip: the
// one they chose with /lang, else the cell's.
func (b *Bot) langsOf(ctx context.Context, c cell.Cell, members []cell.Member) (map[int64]string, error) {
	ids := make([]int64, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.UserID)
	}
	langs, err := b.p.Store.UserLangs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if langs[id] == "" {
			langs[id] = c.Lang
		}
	}
	return langs, nil
}

// joinDecide is a committee member confirming or declining a join request.
func (b *Bot) joinDecide(r *request) error {
	cellID, userID := r.button.arg(0), r.button.arg(1)
	c, err := b.p.Store.Cell(r.ctx, cellID)
	if errors.Is(err, storage.ErrNotFound) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	if err != nil {
		return err
	}
	actor := *r.member // the route checked the presser is on this cell's committee
	req, err := b.p.Store.JoinRequestOf(r.ctx, cellID, userID)
	if errors.Is(err, storage.ErrNotPending) {
		// Settled before, maybe by a confirmation cut short after linking: make
		// sure the member's own index names the cell.
		if _, err := b.p.Store.MemberByUser(r.ctx, cellID, userID); err == nil {
			if err := b.p.Store.AddUserCell(r.ctx, userID, cellID); err != nil {
				return err
			}
		}
		r.answerCallback(r.t(texts.JoinHandled), true)
		r.removeButtons()
		return nil
	}
	if err != nil {
		return err
	}
	userLang := req.Lang
	if userLang == "" {
		userLang = c.Lang
	}
	// The notice's buttons carry the request they were shown for.
	if at := r.button.arg(2); req.At != at {
		r.answerCallback(r.t(texts.JoinHandled), true)
		r.removeButtons()
		return nil
	}
	if r.button.verb == verbJoinReject {
		if _, err := b.p.Store.RejectJoinAt(r.ctx, cellID, userID, req.At); errors.Is(err, storage.ErrNotPending) {
			r.answerCallback(r.t(texts.JoinHandled), true)
			return nil
		} else if err != nil {
			return err
		}
		r.answerCallback("", false)
		r.edit(r.t(texts.JoinRejectedBy, texts.Escape(req.Name), texts.Escape(actor.Name)), nil)
		_, _ = r.send(userID, texts.T(userLang, texts.JoinRejectedYou, texts.Escape(c.Name)), nil)
		return nil
	}
	m, err := b.p.Store.ConfirmJoinAt(r.ctx, cellID, userID, req.At)
	switch {
	case errors.Is(err, storage.ErrNotPending), errors.Is(err, storage.ErrUserLinked):
		r.answerCallback(r.t(texts.JoinHandled), true)
		r.removeButtons()
		return nil
	case errors.Is(err, storage.ErrMemberLinked):
		r.answerCallback("", false)
		r.edit(r.t(texts.JoinNameTaken, texts.Escape(req.Name)), nil)
		return nil
	case err != nil:
		return err
	}
	r.log.Info("member joined", "cell", cellID, "member", m.ID)
	r.syncMenus(c, m) // promoted before they linked
	r.answerCallback("", false)
	r.edit(r.t(texts.JoinConfirmedBy, texts.Escape(m.Name), texts.Escape(actor.Name)), nil)
	_, _ = r.send(userID, texts.T(userLang, texts.JoinConfirmedYou, texts.Escape(m.Name), texts.Escape(c.Name)), nil)
	return nil
}

// migrate follows a group that became a supergroup, so that its cell stays its.
func (b *Bot) migrate(r *request) error {
	c, err := b.p.Store.MoveChat(r.ctx, r.chat.ID, r.msg.MigrateToChatID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // not a cell
	}
	if err != nil {
		return err
	}
	r.log.Info("cell's group became a supergroup", "cell", c.ID, "new_chat_id", c.ChatID)
	return nil
}

// membership follows the bot's own membership of a group: removed from a cell's
// group, the cell is unbound from it (its data kept) and the committee is told
// privately; /setup in the group after adding the bot again binds it again.
func (b *Bot) membership(r *request) error {
	switch r.update.MyChatMember.NewChatMember.Status {
	case "left", "kicked":
	default:
		return nil
	}
	if !r.chat.IsGroup() {
		return nil
	}
	c, err := b.p.Store.UnbindChat(r.ctx, r.chat.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r.log.Info("bot removed from its cell's group; cell unbound", "cell", c.ID)
	c.ChatID = 0
	return b.notifyCommittee(r.ctx, c, "removed:"+r.update.Key(), 0, false, func(lang string) (string, *telegram.InlineKeyboardMarkup) {
		return texts.T(lang, texts.CellRemovedGroup, texts.Escape(c.Name)), nil
	})
}
