package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Leaving the roster (/leave and the card), the end of an attachment, taking
// access back (/unlink, /newlink), and the exempt and away members' opt-out
// of notices (/notices).

// Verbs of leaving and coming back (buttons.go has the others).
const (
	verbLeaveAsk   = "lv" // cell, member: the card's "Ra khỏi danh sách"
	verbLeaveCause = "lc" // cell, member, cause index: asks yes or no
	verbLeaveYes   = "ly" // cell, member, cause index: the confirmed leave, from today
	verbReturn     = "rt" // cell, member: a member who left is on the roster again
)

// leaveAhead is how far ahead a leave may be dated.
const leaveAhead = 1 // year

func causeKey(c cell.LeaveCause) texts.Key {
	switch c {
	case cell.LeftTransfer:
		return texts.LeaveCauseTransfer
	case cell.LeftDied:
		return texts.LeaveCauseDied
	case cell.LeftRemoved:
		return texts.LeaveCauseRemoved
	case cell.LeftAttachmentEnded:
		return texts.LeaveCauseAttachment
	}
	return texts.LeaveCauseMistake
}

// today is the cell's calendar day now.
func (r *request) today() time.Time { return r.b.p.Now().In(r.location()) }

// leave handles "/leave <member> <cause> [dd/mm/yyyy]".
func (b *Bot) leave(r *request) error {
	words := strings.Fields(cell.StripInvisible(r.args))
	today := r.today()
	day := today.Format(time.DateOnly)
	if n := len(words); n > 0 && strings.Count(words[n-1], "/") == 2 {
		d, err := cell.ParseDate(words[n-1])
		if err != nil {
			return texts.Errorf(texts.MemberBadDate, echo(words[n-1]))
		}
		if d > today.AddDate(leaveAhead, 0, 0).Format(time.DateOnly) {
			return texts.Errorf(texts.LeaveTooFar, echo(words[n-1]))
		}
		day, words = d, words[:n-1]
	}
	if len(words) == 0 {
		return texts.Errorf(texts.LeaveUsage)
	}
	name, cause, ok := cell.SplitLeaveCause(words)
	if !ok {
		if len(words) == 1 {
			return texts.Errorf(texts.LeaveUsage)
		}
		return texts.Errorf(texts.LeaveBadCause)
	}
	return b.changeNamed(r, name, memberChange{cmd: "leave", until: day, reason: string(cause)}, false)
}

// applyLeave records that the member leaves the roster from day for cause.
func (b *Bot) applyLeave(r *request, memberID int64, day string, cause cell.LeaveCause) error {
	res, err := b.p.Store.LeaveMember(r.ctx, r.cell.ID, memberID, day, cause, r.today().Format(time.DateOnly))
	switch {
	case errors.Is(err, storage.ErrHasLeft):
		m, err := b.p.Store.Member(r.ctx, r.cell.ID, memberID)
		if err != nil {
			return err
		}
		r.result(r.t(texts.LeaveAlready, texts.Escape(m.Name), cell.FormatDate(m.Left)))
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return texts.Errorf(texts.CommonButtonExpired)
	case err != nil:
		return err
	}
	r.log.Info("member left the roster", "cell", r.cell.ID, "member", memberID, "cause", cause, "from", day)
	if res.Unlinked != 0 {
		r.syncMenus(*r.cell, cell.Member{UserID: res.Unlinked})
	}
	name := texts.Escape(res.Member.Name)
	if cause == cell.LeftDied {
		r.result(r.t(texts.LeaveDoneDied, name, cell.FormatDate(day)))
	} else {
		r.result(r.t(texts.LeaveDone, name, cell.FormatDate(day), r.t(causeKey(cause))))
	}
	return nil
}

// cardLeaveAsk is the card's "Ra khỏi danh sách": the cause first.
func (b *Bot) cardLeaveAsk(r *request) error {
	m, ok, err := b.buttonMember(r)
	if err != nil || !ok {
		return err
	}
	r.answerCallback("", false)
	var rows [][]telegram.InlineKeyboardButton
	for i, c := range cell.LeaveCauses {
		rows = append(rows, row(cb(r.t(causeKey(c)), verbLeaveCause, r.cell.ID, m.ID, int64(i))))
	}
	rows = append(rows, row(cb(r.t(texts.CardNo), verbCard, r.cell.ID, m.ID)))
	r.edit(r.t(texts.CardLeaveAsk, texts.Escape(m.Name), texts.Date(r.today())), keyboard(rows...))
	return nil
}

// cardLeaveCause asks yes or no before the leave takes effect.
func (b *Bot) cardLeaveCause(r *request) error {
	i := int(r.button.arg(2))
	if i < 0 || i >= len(cell.LeaveCauses) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	m, ok, err := b.buttonMember(r)
	if err != nil || !ok {
		return err
	}
	r.answerCallback("", false)
	r.edit(r.t(texts.CardLeaveConfirm, texts.Escape(m.Name), texts.Date(r.today()), r.t(causeKey(cell.LeaveCauses[i]))),
		keyboard(row(cb(r.t(texts.CardYes), verbLeaveYes, r.cell.ID, m.ID, int64(i)), cb(r.t(texts.CardNo), verbCard, r.cell.ID, m.ID))))
	return nil
}

// cardLeaveYes is the confirmed leave, from today.
func (b *Bot) cardLeaveYes(r *request) error {
	i := int(r.button.arg(2))
	if i < 0 || i >= len(cell.LeaveCauses) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	r.answerCallback("", false)
	return b.applyLeave(r, r.button.arg(1), r.today().Format(time.DateOnly), cell.LeaveCauses[i])
}

// cardReturn brings a member who left back on the roster, with their history.
func (b *Bot) cardReturn(r *request) error {
	m, err := b.p.Store.ReturnMember(r.ctx, r.cell.ID, r.button.arg(1))
	if errors.Is(err, storage.ErrNotFound) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	if err != nil {
		return err
	}
	r.log.Info("member back on the roster", "cell", r.cell.ID, "member", m.ID)
	r.answerCallback(r.t(texts.CardUpdated), false)
	r.result(r.t(texts.ReturnDone, texts.Escape(m.Name)))
	return nil
}

// unlink handles "/unlink <member>".
func (b *Bot) unlink(r *request) error {
	words := strings.Fields(cell.StripInvisible(r.args))
	if len(words) == 0 {
		return texts.Errorf(texts.UnlinkUsage)
	}
	return b.changeNamed(r, words, memberChange{cmd: "unlink"}, false)
}

func (b *Bot) applyUnlink(r *request, memberID int64) error {
	res, err := b.p.Store.UnlinkMember(r.ctx, r.cell.ID, memberID)
	switch {
	case errors.Is(err, storage.ErrNotLinked):
		m, err := b.p.Store.Member(r.ctx, r.cell.ID, memberID)
		if err != nil {
			return err
		}
		r.result(r.t(texts.UnlinkNone, texts.Escape(m.Name)))
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return texts.Errorf(texts.CommonButtonExpired)
	case err != nil:
		return err
	}
	r.log.Info("member unlinked", "cell", r.cell.ID, "member", memberID)
	r.syncMenus(*r.cell, cell.Member{UserID: res.Unlinked})
	r.result(r.t(texts.UnlinkDone, texts.Escape(res.Member.Name)))
	return nil
}

// newLink handles /newlink: a new join link, the old one stops working.
func (b *Bot) newLink(r *request) error {
	c, err := b.p.Store.RenewJoinToken(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	r.log.Info("join link renewed", "cell", c.ID)
	*r.cell = c
	link := fmt.Sprintf("https://t.me/%s?start=%s", b.p.BotUsername, c.JoinToken)
	if r.chat.IsGroup() {
		r.reply(r.t(texts.NewLinkDone, texts.Escape(c.Name), ""))
		b.postJoin(r, c)
		return nil
	}
	r.reply(r.t(texts.NewLinkDone, texts.Escape(c.Name), link))
	return nil
}

// notices handles "/notices off|on" for an exempt or away member.
func (b *Bot) notices(r *request) error {
	var off bool
	switch cell.Fold(r.args) {
	case "off", "tat", "thoi":
		off = true
	case "on", "bat", "nhan":
	default:
		return texts.Errorf(texts.NoticesUsage)
	}
	if p := r.member.ParticipationOn(r.today()); off && p != cell.Exempt && p != cell.Away {
		return texts.Errorf(texts.NoticesRefused, r.t(partKey(p)))
	}
	if _, err := b.p.Store.SetNoNotices(r.ctx, r.cell.ID, r.member.ID, off); err != nil {
		return err
	}
	r.log.Info("notices opt-out", "cell", r.cell.ID, "member", r.member.ID, "off", off)
	if off {
		r.reply(r.t(texts.NoticesOff))
	} else {
		r.reply(r.t(texts.NoticesOn))
	}
	return nil
}

// sweepLeaves ends the links of members whose leaving day has come, and
// lets attached members whose date has passed leave the roster, telling the
// committee once of each.
func (b *Bot) sweepLeaves(ctx context.Context, c cell.Cell) error {
	today := b.p.Now().In(c.Location()).Format(time.DateOnly)
	if _, err := b.p.Store.EndLinks(ctx, c.ID, today); err != nil {
		return err
	}
	roster, err := b.p.Store.Members(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, m := range roster {
		end, ok := m.AttachmentEnd()
		if !ok || end > today {
			continue
		}
		_, err := b.p.Store.LeaveMember(ctx, c.ID, m.ID, end, cell.LeftAttachmentEnded, today)
		if err != nil && !errors.Is(err, storage.ErrHasLeft) {
			return err
		}
		b.p.Logger.Info("attachment ended", "cell", c.ID, "member", m.ID, "until", m.Until)
	}
	roster, err = b.p.Store.Members(ctx, c.ID)
	if err != nil {
		return err
	}
	var ended []cell.Member
	for _, m := range roster {
		if m.LeftCause == cell.LeftAttachmentEnded && m.Left <= today {
			ended = append(ended, m)
		}
	}
	for _, m := range ended {
		told, err := b.p.Store.MarkAttachmentEnded(ctx, c.ID, m.ID, m.Left)
		if err != nil {
			return err
		}
		if !told {
			continue
		}
		if err := b.tellCommittee(ctx, c, roster, fmt.Sprintf("attachment-ended:%d:%d:%s", c.ID, m.ID, m.Left), func(lang string) string {
			return texts.T(lang, texts.LeaveAttachmentEnded, texts.Escape(m.Name), cell.FormatDate(m.Until), texts.Escape(c.Name), texts.Escape(m.Name))
		}); err != nil {
			return err
		}
	}
	return nil
}

// tellCommittee queues one message to each committee member with Telegram,
// under ids made from id so that nobody is told twice.
func (b *Bot) tellCommittee(ctx context.Context, c cell.Cell, roster []cell.Member, id string, text func(lang string) string) error {
	var users []int64
	for _, m := range roster {
		if m.Role.IsCommittee() && m.UserID != 0 {
			users = append(users, m.UserID)
		}
	}
	langs, err := b.p.Store.UserLangs(ctx, users)
	if err != nil {
		return err
	}
	var msgs []delivery.Message
	for _, m := range roster {
		if !m.Role.IsCommittee() || m.UserID == 0 {
			continue
		}
		lang := langs[m.UserID]
		if !texts.Supported(lang) {
			lang = c.Lang
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:%d", id, m.ID),
			To:       storage.QueueRecipient{CellID: c.ID, MemberID: m.ID, ChatID: m.UserID, Name: m.Name},
			Parts:    delivery.TextParts(m.UserID, []string{text(lang)}, nil),
			Purpose:  "committee notice",
			Priority: storage.PriorityUrgent,
		})
	}
	if len(msgs) == 0 {
		return nil
	}
	if _, err := b.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("tell the committee of cell %d: %w", c.ID, err)
	}
	return nil
}

// RunLeaveSweeper applies the leaving days of every cell at start and then
// every interval until ctx ends: links end on their day, attachments end the
// day after their date. Several processes may run it: each change is made,
// and the committee told, once.
func (b *Bot) RunLeaveSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		b.SweepLeaves(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepLeaves is one pass of RunLeaveSweeper over every cell.
func (b *Bot) SweepLeaves(ctx context.Context) {
	ids, err := b.p.Store.CellIDs(ctx)
	if err != nil && ctx.Err() == nil {
		b.p.Logger.Warn("leave sweeper: list cells", "err", err)
	}
	for _, id := range ids {
		c, err := b.p.Store.Cell(ctx, id)
		if err == nil {
			err = b.sweepLeaves(ctx, c)
		}
		if err != nil && ctx.Err() == nil {
			b.p.Logger.Warn("leave sweeper", "cell", id, "err", err)
		}
	}
}

// departedRows are the buttons of the members who left, under the last page
// of /members, each opening the card that brings them back.
func departedRows(r *request, departed []cell.Member) [][]telegram.InlineKeyboardButton {
	var rows [][]telegram.InlineKeyboardButton
	for _, m := range sortedRoster(departed) {
		if len(rows) == maxPickButtons {
			break
		}
		rows = append(rows, row(cb("↩︎ "+m.Name+" · "+r.t(texts.MembersLeftMark), verbCard, r.cell.ID, m.ID)))
	}
	return rows
}
