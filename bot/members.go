package bot

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

const dialoguePick = "pick"

// memberChange is what /exempt, /away, /regular, /attached, /promote and /demote
// do to the member they name.
type memberChange struct {
	cmd        string
	until      string // yyyy-mm-dd
	reason     string
	keepReason bool // the card's "Tạm miễn": the date is new, the reason stays
}

func (c memberChange) apply(m *cell.Member) error {
	switch c.cmd {
	case "promote":
		return setRole(m, true)
	case "demote":
		return setRole(m, false)
	case "regular":
		m.Participation, m.Until, m.Reason = cell.Regular, "", ""
	case "away":
		if !c.keepReason {
			m.Reason = c.reason
		}
		m.Participation, m.Until = cell.Away, c.until
	default:
		m.Participation, m.Until, m.Reason = cell.Participation(c.cmd), c.until, c.reason
	}
	return nil
}

// participation handles /exempt, /away, /regular and /attached
// "<member> [until dd/mm/yyyy] [reason]".
func (b *Bot) participation(r *request) error {
	words := strings.Fields(cell.StripInvisible(r.args))
	change := memberChange{cmd: r.cmd}
	for i, w := range words {
		f := cell.Fold(w)
		var date string
		var rest []string
		switch {
		case (f == "until" || f == "den") && i+1 < len(words):
			date, rest = words[i+1], words[i+2:]
		case strings.Count(w, "/") == 2:
			date, rest = w, words[i+1:]
		default:
			continue
		}
		d, err := cell.ParseDate(date)
		if err != nil {
			return texts.Errorf(texts.MemberBadDate, echo(date))
		}
		change.until, change.reason = d, strings.Join(rest, " ")
		words = words[:i]
		break
	}
	if len(words) == 0 {
		return texts.Errorf(texts.MemberUsage, r.cmd)
	}
	return b.changeNamed(r, words, change, change.until == "")
}

// promote handles /promote and /demote "<member>".
func (b *Bot) promote(r *request) error {
	words := strings.Fields(cell.StripInvisible(r.args))
	if len(words) == 0 {
		return texts.Errorf(texts.PromoteUsage, r.cmd)
	}
	return b.changeNamed(r, words, memberChange{cmd: r.cmd}, false)
}

// changeNamed finds the member the words name and applies the change, or offers
// buttons when several members match. With reasonAfter, the words after the
// longest matching name are the reason ("/exempt Nguyễn Văn An ốm yếu").
func (b *Bot) changeNamed(r *request, words []string, change memberChange, reasonAfter bool) error {
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	roster = cell.Current(roster, r.today())
	var matches []cell.Member
	query := strings.Join(words, " ")
	if reasonAfter {
		for k := len(words); k >= 1 && len(matches) == 0; k-- {
			matches = cell.Match(roster, strings.Join(words[:k], " "))
			if len(matches) > 0 {
				query, change.reason = strings.Join(words[:k], " "), strings.Join(words[k:], " ")
			}
		}
	} else {
		matches = cell.Match(roster, query)
	}
	if n := utf8.RuneCountInString(change.reason); n > cell.MaxReasonLen {
		return texts.Errorf(texts.MemberReasonLong, n, cell.MaxReasonLen)
	}
	switch len(matches) {
	case 0:
		return texts.Errorf(texts.MemberNotFound, echo(query))
	case 1:
		return b.applyChange(r, matches[0].ID, change)
	}
	d := storage.Dialogue{Kind: dialoguePick, CellID: r.cell.ID, Data: map[string]string{
		"cmd": change.cmd, "until": change.until, "reason": change.reason,
	}}
	if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, d, dialogueTTL); err != nil {
		return err
	}
	var rows [][]telegram.InlineKeyboardButton
	for i, m := range sortedRoster(matches) {
		if i == maxPickButtons {
			break
		}
		rows = append(rows, row(cb(m.Name+" ("+r.t(partKey(m.Participation))+")", verbPick, r.cell.ID, m.ID)))
	}
	text := r.t(texts.MemberAmbiguous, len(matches), echo(query))
	if len(matches) > maxPickButtons {
		text = r.t(texts.MembersFewer, len(matches), echo(query), maxPickButtons)
	}
	r.replyKB(text, keyboard(rows...))
	return nil
}

// pickMember is the choice among members of the same name.
func (b *Bot) pickMember(r *request) error {
	d, err := b.p.Store.DialogueOf(r.ctx, r.from.ID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (d.Kind != dialoguePick || d.CellID != r.cell.ID)) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	if err != nil {
		return err
	}
	change := memberChange{cmd: d.Data["cmd"], until: d.Data["until"], reason: d.Data["reason"]}
	if (change.cmd == "promote" || change.cmd == "demote") && r.role() != cell.RoleSecretary {
		r.answerCallback(r.t(texts.CommonNotSecretary), true)
		return nil
	}
	if _, err := b.p.Store.ClearDialogue(r.ctx, r.from.ID); err != nil {
		return err
	}
	// One action, one message: the result replaces the message with the choice.
	return b.applyChange(r, r.button.arg(1), change)
}

func (b *Bot) applyChange(r *request, memberID int64, change memberChange) error {
	switch change.cmd {
	case "leave":
		return b.applyLeave(r, memberID, change.until, cell.LeaveCause(change.reason))
	case "unlink":
		return b.applyUnlink(r, memberID)
	}
	m, err := b.p.Store.UpdateMember(r.ctx, r.cell.ID, memberID, change.apply)
	if errors.Is(err, storage.ErrNotFound) {
		return texts.Errorf(texts.CommonButtonExpired)
	}
	if err != nil {
		return err
	}
	r.log.Info("member changed", "cell", r.cell.ID, "member", m.ID, "change", change.cmd)
	if change.cmd == "promote" || change.cmd == "demote" {
		r.syncMenus(*r.cell, m)
	}
	name := texts.Escape(m.Name)
	switch change.cmd {
	case "promote":
		text := r.t(texts.PromoteDone, name)
		if m.UserID == 0 {
			text += "\n" + r.t(texts.PromoteNotLinked, name)
		}
		r.result(text)
	case "demote":
		r.result(r.t(texts.DemoteDone, name))
	default:
		what := b.partText(r.lang, m)
		if m.Reason != "" {
			what += " (" + texts.Escape(m.Reason) + ")"
		}
		r.result(r.t(texts.PartChanged, name, what))
	}
	return nil
}
