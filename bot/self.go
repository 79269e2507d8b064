package bot

import (
	"errors"
	"slices"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// The secretary is one person: /setup makes an unlisted record from
// their Telegram name, /import links it to the entry of the same name (either
// order of first and last name); otherwise the importer is asked to pick their
// entry among close names, or to say they are not on the roster.

// askSelf runs after an import: when the importer is still unlisted, it offers
// the roster entries close to their Telegram name.
func (b *Bot) askSelf(r *request, roster []cell.Member) error {
	var me *cell.Member
	for i, m := range roster {
		if m.UserID == r.from.ID {
			me = &roster[i]
		}
	}
	if me == nil {
		return nil
	}
	if !me.Unlisted {
		if r.member != nil && r.member.Unlisted {
			r.reply(r.t(texts.SelfLinked, texts.Escape(me.Name)))
		}
		return nil
	}
	if me.OffRoster {
		return nil
	}
	var rows [][]telegram.InlineKeyboardButton
	for _, m := range closeNames(roster, r.from) {
		rows = append(rows, row(cb(r.t(texts.JoinMeButton, m.Name), verbSelfLink, r.cell.ID, m.ID)))
	}
	rows = append(rows, row(cb(r.t(texts.SelfNotListed), verbSelfNone, r.cell.ID)))
	r.replyKB(r.t(texts.SelfAsk, texts.Escape(me.Name)), keyboard(rows...))
	return nil
}

// closeNames are the free roster entries whose given name (the last word) is one
// of the words of the user's Telegram name, accents ignored, those sharing more
// words first.
func closeNames(roster []cell.Member, u telegram.User) []cell.Member {
	words := strings.Fields(cell.Fold(u.FirstName + " " + u.LastName))
	type scored struct {
		m     cell.Member
		score int
	}
	var out []scored
	for _, m := range roster {
		if m.Unlisted || m.UserID != 0 {
			continue
		}
		f := strings.Fields(cell.Fold(m.Name))
		if len(f) == 0 || !slices.Contains(words, f[len(f)-1]) {
			continue
		}
		n := 0
		for _, w := range f {
			if slices.Contains(words, w) {
				n++
			}
		}
		out = append(out, scored{m, n})
	}
	slices.SortStableFunc(out, func(a, b scored) int { return b.score - a.score })
	ms := make([]cell.Member, 0, min(len(out), maxPickButtons))
	for i := 0; i < len(out) && i < maxPickButtons; i++ {
		ms = append(ms, out[i].m)
	}
	return ms
}

// selfLink is the unlisted importer picking their roster entry.
func (b *Bot) selfLink(r *request) error {
	if r.member == nil || !r.member.Unlisted {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		r.removeButtons()
		return nil
	}
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	// Callback data is user input: only an entry offered may be taken.
	target := r.button.arg(1)
	if !slices.ContainsFunc(closeNames(roster, r.from), func(m cell.Member) bool { return m.ID == target }) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	m, err := b.p.Store.LinkSelf(r.ctx, r.cell.ID, r.member.ID, target)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrNotUnlisted):
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		r.removeButtons()
		return nil
	case errors.Is(err, storage.ErrMemberLinked):
		i := slices.IndexFunc(roster, func(m cell.Member) bool { return m.ID == target })
		r.answerCallback(r.alertWithName(texts.JoinNameTaken, roster[i].Name), true)
		return nil
	case err != nil:
		return err
	}
	r.log.Info("unlisted record linked", "cell", r.cell.ID, "member", m.ID)
	r.answerCallback("", false)
	r.edit(r.t(texts.SelfLinked, texts.Escape(m.Name)), nil)
	return nil
}

// selfNone is the unlisted importer saying they are not on the roster.
func (b *Bot) selfNone(r *request) error {
	if r.member == nil || !r.member.Unlisted {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		r.removeButtons()
		return nil
	}
	if _, err := b.p.Store.SetOffRoster(r.ctx, r.cell.ID, r.member.ID); err != nil && !errors.Is(err, storage.ErrNotUnlisted) {
		return err
	}
	r.answerCallback("", false)
	r.edit(r.t(texts.SelfOffRoster), nil)
	return nil
}
