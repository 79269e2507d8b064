package bot

import (
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

// help says what the user can do here, for their role: the lines of their
// menu (menus.go), each with its example.
func (b *Bot) help(r *request) error {
	if r.chat.IsGroup() {
		if r.cell == nil {
			r.reply(r.t(texts.HelpGroup) + "\n\n" + r.t(texts.HelpGroupNoCell))
			return nil
		}
		// The sender's own group menu (syncMenus): the committee's for its
		// members, the group's default menu (RegisterCommands) for everyone
		// else, members or not, since anyone in the group may use its member
		// commands (/join first of all).
		who := max(r.access(), member)
		r.reply(b.helpText(r.lang, audience{group: true, who: who}))
		return nil
	}
	who := r.access()
	text := b.helpText(r.lang, audience{who: who})
	if who == anyone || who >= committee {
		// What an operator puts in CELLBOT_OWNER_IDS (README).
		text += "\n\n" + r.t(texts.HelpYourID, r.from.ID)
	}
	r.reply(text)
	return nil
}

// access is the highest access the sender has in r.cell: anyone when they
// are not in it.
func (r *request) access() access {
	switch {
	case r.role() == cell.RoleSecretary && r.member != nil:
		return secretary
	case r.isCommittee():
		return committee
	case r.member != nil:
		return member
	}
	return anyone
}

// setLang is /lang vi|en.
func (b *Bot) setLang(r *request) error {
	lang := strings.ToLower(strings.TrimSpace(r.args))
	if !texts.Supported(lang) {
		return texts.Errorf(texts.LangUsage)
	}
	if err := b.p.Store.SetUserLang(r.ctx, r.from.ID, lang); err != nil {
		return err
	}
	if r.cell != nil && r.member != nil {
		r.syncMenus(*r.cell, *r.member) // the menus in that language too
	}
	r.lang = lang
	r.reply(r.t(texts.LangDone))
	return nil
}

// cancel leaves the current dialogue.
func (b *Bot) cancel(r *request) error {
	had, err := b.p.Store.ClearDialogue(r.ctx, r.from.ID)
	if err != nil {
		return err
	}
	if had {
		r.reply(r.t(texts.CommonCancelled))
	} else {
		r.reply(r.t(texts.CommonNothingToStop))
	}
	return nil
}
