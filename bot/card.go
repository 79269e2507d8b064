package bot

import (
	"strconv"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// The member card's steps that ask before they change (roster.go shows the
// card): a standing change is confirmed, and "Tạm miễn" asks until when.

// Verbs of the card's confirmations (buttons.go has the others).
const (
	verbSetStanding = "mu" // cell, member, 0 official / 1 probationary: the confirmed change
)

const dialogueAwayUntil = "away_until"

var standingCodes = []cell.Standing{cell.Official, cell.Probationary}

// cardAskStanding asks before a member's standing changes.
func (b *Bot) cardAskStanding(r *request) error {
	m, ok, err := b.buttonMember(r)
	if err != nil || !ok {
		return err
	}
	to := cell.Probationary
	if m.Standing == cell.Probationary {
		to = cell.Official
	}
	code := int64(0)
	if to == cell.Probationary {
		code = 1
	}
	r.answerCallback("", false)
	r.edit(r.t(texts.CardStandingAsk, texts.Escape(m.Name), r.t(standingKey(m.Standing)), r.t(standingKey(to))),
		keyboard(row(cb(r.t(texts.CardYes), verbSetStanding, r.cell.ID, m.ID, code), cb(r.t(texts.CardNo), verbCard, r.cell.ID, m.ID))))
	return nil
}

// cardSetStanding sets the standing the confirmation named: pressing it twice
// changes nothing more.
func (b *Bot) cardSetStanding(r *request) error {
	i := int(r.button.arg(2))
	if i < 0 || i >= len(standingCodes) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	return b.cardUpdate(r, func(m *cell.Member) error {
		m.Standing = standingCodes[i]
		return nil
	})
}

// cardSetPart changes participation from the card. "Tạm miễn" keeps the reason
// and asks until when; the others are cardSetParticipation.
func (b *Bot) cardSetPart(r *request) error {
	i := int(r.button.arg(2))
	if i < 0 || i >= len(partCodes) || partCodes[i] != cell.Away {
		return b.cardSetParticipation(r)
	}
	d := storage.Dialogue{Kind: dialogueAwayUntil, CellID: r.cell.ID, Data: map[string]string{
		"member": strconv.FormatInt(r.button.arg(1), 10),
	}}
	if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, d, dialogueTTL); err != nil {
		return err
	}
	if err := b.cardUpdate(r, func(m *cell.Member) error {
		if m.Participation != cell.Away {
			m.Participation, m.Until = cell.Away, ""
		}
		return nil
	}); err != nil {
		return err
	}
	m, err := b.p.Store.Member(r.ctx, r.cell.ID, r.button.arg(1))
	if err != nil {
		return nil // the card said why
	}
	r.reply(r.t(texts.CardAwayAsk, texts.Escape(m.Name)))
	return nil
}

// awayUntil is the end date typed after "Tạm miễn" on a card.
func (b *Bot) awayUntil(r *request) error {
	d, err := b.p.Store.DialogueOf(r.ctx, r.from.ID)
	if err != nil {
		return err
	}
	memberID, _ := strconv.ParseInt(d.Data["member"], 10, 64)
	if r.cell == nil || r.cell.ID != d.CellID || !r.isCommittee() {
		if _, err := b.p.Store.ClearDialogue(r.ctx, r.from.ID); err != nil {
			return err
		}
		return texts.Errorf(texts.CommonNotCommittee)
	}
	text := strings.TrimSpace(r.msg.Text)
	until, err := cell.ParseDate(strings.TrimPrefix(strings.TrimPrefix(text, "đến "), "until "))
	if err != nil {
		return texts.Errorf(texts.MemberBadDate, texts.Escape(text))
	}
	if _, err := b.p.Store.ClearDialogue(r.ctx, r.from.ID); err != nil {
		return err
	}
	return b.applyChange(r, memberID, memberChange{cmd: string(cell.Away), until: until, keepReason: true})
}
