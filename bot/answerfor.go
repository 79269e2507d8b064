package bot

import (
	"errors"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// The answers a committee member gives for a member without Telegram, on the
// member's card: code → answer.
var answerForCodes = []struct {
	label  texts.Key
	answer cell.Answer
}{
	{texts.RSVPComing, cell.Answer{Kind: cell.Coming}},
	{texts.RSVPUnsure, cell.Answer{Kind: cell.Unsure}},
	{texts.ReasonWork, cell.Answer{Kind: cell.Excused, Reason: cell.ReasonWork}},
	{texts.ReasonIllness, cell.Answer{Kind: cell.Excused, Reason: cell.ReasonIllness}},
	{texts.ReasonFamily, cell.Answer{Kind: cell.Excused, Reason: cell.ReasonFamily}},
}

// answerForRows is the card's line with the member's answer to the next meeting,
// and the buttons to answer for them; "" when there is no meeting to come.
func (b *Bot) answerForRows(r *request, m cell.Member) (string, [][]telegram.InlineKeyboardButton, error) {
	next, err := b.p.Store.NextMeeting(r.ctx, r.cell.ID, b.p.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	answers, err := b.p.Store.Answers(r.ctx, r.cell.ID, next.ID)
	if err != nil {
		return "", nil, err
	}
	current := r.t(texts.CardNoAnswer)
	if a, ok := answers[m.ID]; ok {
		current = answerLabel(r.lang, a)
	}
	line := r.t(texts.CardAnswerFor, texts.DateTime(r.lang, next.Start.In(r.location())), current)
	var rows [][]telegram.InlineKeyboardButton
	first := row()
	for i, c := range answerForCodes {
		label := r.t(c.label)
		if c.answer.Kind == cell.Excused {
			label = "❌ " + label
			rows = append(rows, row(cb(label, verbAnswerFor, r.cell.ID, m.ID, next.ID, int64(i))))
			continue
		}
		first = append(first, cb(label, verbAnswerFor, r.cell.ID, m.ID, next.ID, int64(i)))
	}
	return line, append([][]telegram.InlineKeyboardButton{first}, rows...), nil
}

// answerFor is a committee member answering for a member without Telegram, from
// the member's card: cell, member, meeting, answer code.
func (b *Bot) answerFor(r *request) error {
	i := int(r.button.arg(3))
	if i < 0 || i >= len(answerForCodes) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	m, ok, err := b.buttonMember(r)
	if err != nil || !ok {
		return err
	}
	a := answerForCodes[i].answer
	a.MemberID, a.At = m.ID, b.p.Now()
	_, err = b.p.Store.Answer(r.ctx, r.cell.ID, r.button.arg(2), a, b.p.Now())
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrClosed):
		r.answerCallback(r.t(texts.RSVPClosed), true)
		return nil
	case err != nil:
		return err
	}
	r.answerCallback(r.alertWithName(texts.CardAnswered, m.Name, answerLabel(r.lang, a)), false)
	return b.showCard(r, m, true)
}

// presenceForRow is the card's line with the member's mark at the meeting under
// way (check-in open, started, or starting within the hour) and the buttons to
// mark them present or absent; "" when no meeting is under way.
func (b *Bot) presenceForRow(r *request, m cell.Member) (string, []telegram.InlineKeyboardButton, error) {
	cur, ok, _, err := b.currentMeeting(r)
	if err != nil || !ok {
		return "", nil, err
	}
	pres, err := b.p.Store.Presences(r.ctx, r.cell.ID, cur.ID)
	if err != nil {
		return "", nil, err
	}
	state := r.t(texts.CardUnmarked)
	if p, marked := pres[m.ID]; marked && p.Present() {
		state = r.t(texts.CardPresent)
	} else if marked {
		state = r.t(texts.CardAbsent)
	}
	line := r.t(texts.CardPresence, texts.DateTime(r.lang, cur.Start.In(r.location())), state)
	return line, row(
		cb(r.t(texts.CardMarkPresent), verbCardPresent, r.cell.ID, m.ID, cur.ID, 1),
		cb(r.t(texts.CardMarkAbsent), verbCardPresent, r.cell.ID, m.ID, cur.ID, 0),
	), nil
}

// presentFor is a committee member checking in (or marking absent) a member
// without Telegram from their card: cell, member, meeting, mark.
func (b *Bot) presentFor(r *request) error {
	m, ok, err := b.buttonMember(r)
	if err != nil || !ok {
		return err
	}
	meeting, ok, err := b.openButtonMeeting(r, 2)
	if err != nil || !ok {
		return err
	}
	mark, state := cell.MarkedAbsent, r.t(texts.CardAbsent)
	if r.button.arg(3) == 1 {
		mark, state = cell.PresentByCard, r.t(texts.CardPresent)
	}
	if err := b.p.Store.SetPresence(r.ctx, r.cell.ID, meeting.ID, cell.Presence{MemberID: m.ID, Mark: mark, At: b.p.Now()}); err != nil {
		return err
	}
	r.answerCallback(r.alertWithName(texts.CardAnswered, m.Name, state), false)
	return b.showCard(r, m, true)
}
