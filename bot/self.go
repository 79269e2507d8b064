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
	r.replyKB(r.t(texts.SelfAsk, texts.Escape(me.Name)), selfPicker(r, roster, -1))
	return nil
}

// selfPicker is the keyboard of roster entries the unlisted importer may pick
// as theirs. Page -1 offers the entries close to their Telegram name, and a
// button to the whole list; with none close, or on page 0 and after, the free
// entries are offered in pages. The last button is always "not on this roster".
func selfPicker(r *request, roster []cell.Member, page int) *telegram.InlineKeyboardMarkup {
	var rows [][]telegram.InlineKeyboardButton
	pick := func(m cell.Member) {
		rows = append(rows, row(cb(r.t(texts.JoinMeButton, m.Name), verbSelfLink, r.cell.ID, m.ID)))
	}
	near := closeNames(roster, r.from)
	if page < 0 && len(near) > 0 {
		for _, m := range near {
			pick(m)
		}
		rows = append(rows, row(cb(r.t(texts.SelfWholeList), verbSelfPage, r.cell.ID, 0)))
	} else {
		free := freeEntries(roster)
		pages := max((len(free)+maxPickButtons-1)/maxPickButtons, 1)
		page = min(max(page, 0), pages-1)
		for _, m := range free[page*maxPickButtons : min((page+1)*maxPickButtons, len(free))] {
			pick(m)
		}
		if nav := pageNav(r, page, pages, func(label string, to int) telegram.InlineKeyboardButton {
			return cb(label, verbSelfPage, r.cell.ID, int64(to))
		}); nav != nil {
			rows = append(rows, nav)
		}
	}
	rows = append(rows, row(cb(r.t(texts.SelfNotListed), verbSelfNone, r.cell.ID)))
	return keyboard(rows...)
}

// freeEntries are the roster entries nobody is linked to, in the roster's
// order by name.
func freeEntries(roster []cell.Member) []cell.Member {
	var out []cell.Member
	for _, m := range roster {
		if !m.Unlisted && m.UserID == 0 && m.Left == "" {
			out = append(out, m)
		}
	}
	return out
}

// unlistedRoster is the roster, for a press of the unlisted importer's
// picker; ok is false (the press answered as expired) when the presser is no
// longer unlisted.
func (b *Bot) unlistedRoster(r *request) (roster []cell.Member, ok bool, err error) {
	if r.member == nil || !r.member.Unlisted {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		r.removeButtons()
		return nil, false, nil
	}
	roster, err = b.p.Store.Members(r.ctx, r.cell.ID)
	return roster, err == nil, err
}

// selfPage shows a page of the whole roster to the unlisted importer.
func (b *Bot) selfPage(r *request) error {
	roster, ok, err := b.unlistedRoster(r)
	if !ok || err != nil {
		return err
	}
	r.answerCallback("", false)
	r.edit(r.t(texts.SelfAsk, texts.Escape(r.member.Name)), selfPicker(r, roster, int(r.button.arg(1))))
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
	for _, m := range freeEntries(roster) {
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
	roster, ok, err := b.unlistedRoster(r)
	if !ok || err != nil {
		return err
	}
	// Callback data is user input: only a free entry may be taken (the whole
	// roster is offered, in pages), and the link is checked again atomically.
	target := r.button.arg(1)
	if !slices.ContainsFunc(freeEntries(roster), func(m cell.Member) bool { return m.ID == target }) {
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
