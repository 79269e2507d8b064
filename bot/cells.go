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
	"github.com/cellbot/cellbot/internal/checkin"
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
	if err := b.p.Store.SetOpened(r.ctx, r.from.ID, telegramLang(r.from)); err != nil {
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
	if strings.HasPrefix(r.args, checkin.PayloadPrefix) {
		return b.checkinByLink(r) // the QR shown in the meeting room
	}
	c, err := b.p.Store.CellByJoinToken(r.ctx, r.args)
	if errors.Is(err, storage.ErrNotFound) {
		if old, err := b.p.Store.RevokedJoinToken(r.ctx, r.args); err == nil {
			return texts.Errorf(texts.JoinLinkReplaced, texts.Escape(old.Name))
		}
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
	// One request per user and cell: a repeat shows the one waiting, and the
	// committee hears nothing new.
	switch req, err := b.p.Store.JoinRequestOf(r.ctx, c.ID, r.from.ID); {
	case err == nil:
		text, kb := pendingJoin(r, c, req)
		r.replyKB(text, kb)
		return nil
	case !errors.Is(err, storage.ErrNotPending):
		return err
	}
	if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, storage.Dialogue{Kind: dialogueJoinName, CellID: c.ID}, dialogueTTL); err != nil {
		return err
	}
	r.reply(r.t(texts.JoinAskName, texts.Escape(c.Name)))
	return nil
}

// pendingJoin tells a user their request to join c is waiting, with a button to
// withdraw it (a wrong name is corrected that way).
func pendingJoin(r *request, c cell.Cell, req storage.JoinRequest) (string, *telegram.InlineKeyboardMarkup) {
	return r.t(texts.JoinPendingYou, texts.Escape(c.Name), texts.Escape(req.Name)),
		keyboard(row(cb(r.t(texts.JoinWithdrawButton), verbJoinWithdraw, c.ID, req.At)))
}

// joinWithdraw is a user withdrawing their pending request: they are asked for
// their name again. The committee's notices of it are out of date from then on.
func (b *Bot) joinWithdraw(r *request) error {
	cellID, at := r.button.arg(0), r.button.arg(1)
	ok, err := b.p.Store.WithdrawJoin(r.ctx, cellID, r.from.ID, at)
	if err != nil {
		return err
	}
	c, err := b.p.Store.Cell(r.ctx, cellID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !ok) {
		r.answerCallback(r.t(texts.JoinHandled), true)
		r.removeButtons()
		return nil
	}
	if err != nil {
		return err
	}
	r.log.Info("join request withdrawn", "cell", cellID)
	if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, storage.Dialogue{Kind: dialogueJoinName, CellID: c.ID}, dialogueTTL); err != nil {
		return err
	}
	r.answerCallback("", false)
	r.edit(r.t(texts.JoinWithdrawn, texts.Escape(c.Name)), nil)
	return nil
}

// joinName takes the name a joining user typed and offers the roster entries
// that are that name, or a request under that name. A name linked to another
// account is refused: typing a member's name never claims their place.
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
	if m, ok := linkedName(roster, name, r.from.ID); ok {
		return texts.Errorf(texts.JoinNameLinked, texts.Escape(m.Name))
	}
	d.Data = map[string]string{"name": name}
	if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, d, dialogueTTL); err != nil {
		return err
	}
	matches, listed := joinCandidates(roster, name)
	var rows [][]telegram.InlineKeyboardButton
	for i, m := range matches {
		if i == maxPickButtons {
			break
		}
		rows = append(rows, row(cb(r.t(texts.JoinMeButton, m.Name), verbJoinPick, d.CellID, m.ID)))
	}
	if !listed {
		// A name on the roster can only claim its entry, never be added again.
		rows = append(rows, row(cb(r.t(texts.JoinNewButton, name), verbJoinNew, d.CellID, nameMark(name))))
	}
	text := r.t(texts.JoinPick)
	if len(matches) == 0 {
		text = r.t(texts.JoinNotInList, texts.Escape(name))
	} else if len(matches) > maxPickButtons {
		text = r.t(texts.JoinPickFewer, len(matches), maxPickButtons)
	}
	r.replyKB(text, keyboard(rows...))
	return nil
}

// linkedName is the record whose name is name (the same identity: accents
// count, case and Unicode form do not) when it is linked to an account other
// than userID's.
func linkedName(roster []cell.Member, name string, userID int64) (cell.Member, bool) {
	key := cell.Key(name)
	for _, m := range roster {
		if cell.Key(m.Name) == key && m.UserID != 0 && m.UserID != userID {
			return m, true
		}
	}
	return cell.Member{}, false
}

// unlinked are the roster entries no account is linked to.
func unlinked(roster []cell.Member) []cell.Member {
	var free []cell.Member
	for _, m := range roster {
		if m.UserID == 0 && !m.Unlisted && m.Left == "" {
			free = append(free, m)
		}
	}
	return free
}

// joinCandidates are the roster entries offered to someone joining under name:
// the unlinked entry that is that name, alone, when there is one (listed);
// else the unlinked entries near it (cell.Near), never the members who merely
// share a given or family name with it, since the roster is not shown to
// whoever holds the join link. Entries linked to an account are never offered.
func joinCandidates(roster []cell.Member, name string) (matches []cell.Member, listed bool) {
	free := unlinked(roster)
	key := cell.Key(name)
	for _, m := range free {
		if cell.Key(m.Name) == key {
			return []cell.Member{m}, true
		}
	}
	return cell.Near(free, name), false
}

// joinPick records the join request and asks the committee to confirm it,
// once: a user with a request pending is shown it, and nothing is sent.
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
	// under an older answer cannot send the name typed since, nor one made up
	// before any name was typed.
	if req.Name == "" || (r.button.verb == verbJoinNew && r.button.arg(1) != nameMark(req.Name)) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	roster, err := b.p.Store.Members(r.ctx, cellID)
	if err != nil {
		return err
	}
	if m, ok := linkedName(roster, req.Name, r.from.ID); ok {
		r.edit(r.t(texts.JoinNameLinked, texts.Escape(m.Name)), nil)
		return nil
	}
	// Callback data is user input: only an entry the name offered may be
	// claimed, and a name on the roster cannot be sent as a new one.
	matches, listed := joinCandidates(roster, req.Name)
	switch r.button.verb {
	case verbJoinPick:
		i := slices.IndexFunc(matches, func(m cell.Member) bool { return m.ID == r.button.arg(1) })
		if i < 0 {
			r.answerCallback(r.t(texts.JoinButtonExpired), true)
			return nil
		}
		req.MemberID, req.Name = matches[i].ID, matches[i].Name
	case verbJoinNew:
		if listed {
			r.answerCallback(r.t(texts.JoinButtonExpired), true)
			return nil
		}
	}
	// Checked again in Redis as it is recorded: the entry is still unlinked, the
	// new name still no entry's, and no request of the user's is pending.
	res, err := b.p.Store.RequestJoin(r.ctx, cellID, req, storage.NoticeLimit{N: joinNotices, Per: joinNoticesPer})
	switch {
	case errors.Is(err, storage.ErrMemberLinked):
		r.edit(r.t(texts.JoinNameLinked, texts.Escape(req.Name)), nil)
		return nil
	case errors.Is(err, storage.ErrUserLinked):
		r.answerCallback(r.t(texts.JoinHandled), true)
		r.removeButtons()
		return nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrNameListed):
		r.answerCallback(r.t(texts.JoinButtonExpired), true)
		return nil
	case err != nil:
		return err
	}
	if _, err := b.p.Store.ClearDialogue(r.ctx, r.from.ID); err != nil {
		return err
	}
	r.answerCallback("", false)
	if !res.Made {
		text, kb := pendingJoin(r, c, res.Request)
		r.edit(text, kb)
		return nil
	}
	r.log.Info("join request", "cell", cellID, "claims", req.MemberID, "notify", res.Notify)
	r.edit(r.t(texts.JoinSent), nil)
	if err := b.sweepJoins(r.ctx, c); err != nil {
		r.log.Warn("expire join requests", "err", err)
	}
	if !res.Notify {
		// Past the notices one user's requests get: it waits, listed first in
		// /members, like any other.
		return nil
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
		return joinNotice(lang, c, req, roster)
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
	standing, part, ok := b.newcomerStanding(r, c, req)
	if !ok {
		return nil // asked the committee member first
	}
	j, err := b.p.Store.ConfirmJoinAs(r.ctx, cellID, userID, req.At, standing, part)
	switch {
	case errors.Is(err, storage.ErrNotPending), errors.Is(err, storage.ErrUserLinked), errors.Is(err, storage.ErrNotFound):
		r.answerCallback(r.t(texts.JoinHandled), true)
		r.removeButtons()
		return nil
	case errors.Is(err, storage.ErrMemberLinked):
		r.answerCallback("", false)
		r.edit(r.t(texts.JoinNameTaken, texts.Escape(req.Name)), nil)
		return nil
	case errors.Is(err, storage.ErrNameListed):
		// A new name imported since: the request cannot add it again, nor
		// claim the entry for whoever typed it. The user asks again for it.
		r.answerCallback("", false)
		r.edit(r.t(texts.JoinNameListedNow, texts.Escape(req.Name)), nil)
		_, _ = r.send(userID, texts.T(userLang, texts.JoinPickAgain, texts.Escape(req.Name), texts.Escape(c.Name)), nil)
		return nil
	case err != nil:
		return err
	}
	m := j.Member
	r.log.Info("member joined", "cell", cellID, "member", m.ID, "added", j.Added)
	r.syncMenus(c, m)
	r.answerCallback("", false)
	text := r.t(texts.JoinConfirmedBy, texts.Escape(m.Name), texts.Escape(actor.Name))
	if j.Rights.IsCommittee() {
		// The entry had rights (promoted before anyone linked it): they stay
		// with nobody until the secretary gives them again, so that a stranger
		// confirmed by mistake gets a member's place at most.
		r.log.Info("join did not pass committee rights", "cell", cellID, "member", m.ID, "rights", j.Rights)
		notice := func(lang string) string {
			return texts.T(lang, texts.JoinRightsNotPassed, texts.Escape(m.Name), texts.Escape(m.Name))
		}
		text += "\n" + notice(r.lang)
		if err := b.notifyCommittee(r.ctx, c, "join-rights:"+r.update.Key(), actor.ID, false, func(lang string) (string, *telegram.InlineKeyboardMarkup) {
			return notice(lang), nil
		}); err != nil {
			r.log.Warn("tell the committee a join passed no rights", "err", err)
		}
	}
	r.edit(text, nil)
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
