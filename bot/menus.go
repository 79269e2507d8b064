package bot

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
)

// The command menus (setMyCommands) and /help come from the route table
// (routes.go): a command's desc is its menu line and its /help line, word for
// word, and its where and who decide whose menus show it. So a new command
// needs one row there, and a menu cannot offer what its user may not use.

// audience is whom a menu or a /help is for: a private chat or a group, and the
// highest access its user has (anyone: not joined).
type audience struct {
	group bool
	who   access
}

// helpOrder is the order of the menus and of /help; commands not listed follow,
// by name.
var helpOrder = []string{
	"help", "lang", "cancel",
	"rsvp", "meetings", "checkin", "history", "calendar",
	"meeting", "schedule", "holiday", "move", "cancelmeeting", "reminders", "quiet", "settings",
	"guest", "attendance", "close", "report", "export",
	"members", "import", "exempt", "away", "regular", "attached", "leave", "unlink", "newlink", "broadcast", "agenda",
	"promote", "demote", "notices",
	"setup", "join",
}

func (a audience) shows(c command) bool {
	if c.desc == "" || c.who > a.who {
		return false
	}
	if a.group {
		return c.where != privateOnly
	}
	return c.where != groupOnly
}

// menuNames are the commands a's menu shows, in order.
func (b *Bot) menuNames(a audience) []string {
	var names []string
	for name, c := range b.routes.commands {
		if a.shows(c) {
			names = append(names, name)
		}
	}
	rank := func(n string) int {
		if i := slices.Index(helpOrder, n); i >= 0 {
			return i
		}
		return len(helpOrder)
	}
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Or(cmp.Compare(rank(x), rank(y)), strings.Compare(x, y))
	})
	return names
}

// menu is a's menu in a language.
func (b *Bot) menu(lang string, a audience) []telegram.BotCommand {
	names := b.menuNames(a)
	cmds := make([]telegram.BotCommand, 0, len(names))
	for _, n := range names {
		cmds = append(cmds, telegram.BotCommand{Command: n, Description: texts.T(lang, b.routes.commands[n].desc)})
	}
	return cmds
}

// helpLine is a command's line in /help: its menu description, and how it is
// typed.
func (b *Bot) helpLine(lang, name string, group bool) string {
	c := b.routes.commands[name]
	line := "/" + name + " — " + texts.T(lang, c.desc)
	if group && c.who >= committee {
		line += texts.T(lang, texts.HelpForCommittee)
	}
	if c.example != "" {
		line += "\n    " + texts.T(lang, texts.HelpExample, texts.T(lang, c.example))
	}
	return line
}

// helpText is /help for a: what the bot does for them, then the commands of
// their menu, by whom they are for.
func (b *Bot) helpText(lang string, a audience) string {
	section := func(head texts.Key, names []string) string {
		lines := []string{texts.T(lang, head)}
		for _, n := range names {
			lines = append(lines, b.helpLine(lang, n, a.group))
		}
		return strings.Join(lines, "\n")
	}
	// Commands of exactly one access level.
	level := func(who access, group bool) []string {
		var out []string
		for _, n := range b.menuNames(audience{group: group, who: a.who}) {
			if b.routes.commands[n].who == who || (who == member && b.routes.commands[n].who == anyone) {
				out = append(out, n)
			}
		}
		return out
	}
	if a.group {
		return texts.T(lang, texts.HelpGroup) + "\n\n" + section(texts.HelpCommands, b.menuNames(a))
	}
	intro := texts.HelpMember
	if a.who == anyone {
		intro = texts.HelpGuest
	}
	parts := []string{texts.T(lang, intro), section(texts.HelpCommands, level(member, false))}
	if a.who >= committee {
		parts = append(parts, section(texts.HelpCommittee, level(committee, false)))
	}
	if a.who >= secretary {
		parts = append(parts, section(texts.HelpSecretary, level(secretary, false)))
	}
	if a.who >= committee {
		// The group's own commands, which the committee starts with.
		var inGroup []string
		for _, n := range b.menuNames(audience{group: true, who: a.who}) {
			if b.routes.commands[n].where == groupOnly {
				inGroup = append(inGroup, n)
			}
		}
		parts = append(parts, section(texts.HelpInGroup, inGroup))
	}
	return strings.Join(parts, "\n\n")
}

// menuLangs are the languages menus are set in: the default language with no
// language_code (for every user whose language has no list), then the others
// by code.
func (b *Bot) menuLangs() []string {
	langs := []string{b.p.Lang}
	for _, l := range []string{texts.VI, texts.EN} {
		if l != b.p.Lang {
			langs = append(langs, l)
		}
	}
	return langs
}

// setMenu sets a's menu in a scope, in every language.
func (b *Bot) setMenu(ctx context.Context, scope telegram.CommandScope, a audience) error {
	for i, lang := range b.menuLangs() {
		req := telegram.SetMyCommands{Commands: b.menu(lang, a), Scope: scope}
		if i > 0 {
			req.LanguageCode = lang
		}
		if err := b.p.Telegram.Do(ctx, req, nil); err != nil {
			return fmt.Errorf("bot: set %s menu of %s: %w", lang, scopeName(scope), err)
		}
	}
	return nil
}

func scopeName(s telegram.CommandScope) string {
	switch s.Type {
	case "chat":
		return "chat:" + strconv.FormatInt(s.ChatID, 10)
	case "chat_member":
		return "chat_member:" + strconv.FormatInt(s.ChatID, 10) + ":" + strconv.FormatInt(s.UserID, 10)
	case "":
		return "default"
	}
	return s.Type
}

// RegisterCommands sets the menus: members' in private chats (the default
// scope) and in groups, then each committee member's own (syncMenus) where it
// changed since it was last set.
func (b *Bot) RegisterCommands(ctx context.Context) error {
	errs := []error{
		b.setMenu(ctx, telegram.CommandScope{}, audience{who: member}),
		b.setMenu(ctx, telegram.CommandScope{Type: "all_group_chats"}, audience{group: true, who: member}),
	}
	seats, err := b.p.Store.CommitteeSeats(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, s := range seats {
		errs = append(errs, b.syncMenus(ctx, s.Cell, s.Member))
	}
	return errors.Join(errs...)
}

// syncMenus gives a committee member their menus, in their private chat with
// the bot (chat scope) and in their cell's group (chat_member scope), or takes
// them away from a member who left the committee, so that they see the members'
// menus again. A member who chose a language with /lang gets their menus in it
// there too, whatever their Telegram app's language (Telegram picks a menu by
// the app's). A menu already set is not set again.
func (b *Bot) syncMenus(ctx context.Context, c cell.Cell, m cell.Member) error {
	if m.UserID == 0 {
		return nil
	}
	lang, err := b.p.Store.UserLang(ctx, m.UserID)
	if err != nil {
		return err
	}
	who := member
	switch {
	case m.Role == cell.RoleSecretary:
		who = secretary
	case m.Role.IsCommittee():
		who = committee
	}
	var errs []error
	for _, s := range []struct {
		scope telegram.CommandScope
		a     audience
	}{
		{telegram.CommandScope{Type: "chat", ChatID: m.UserID}, audience{who: who}},
		{telegram.CommandScope{Type: "chat_member", ChatID: c.ChatID, UserID: m.UserID}, audience{group: true, who: who}},
	} {
		errs = append(errs, b.syncMenu(ctx, s.scope, s.a, lang))
	}
	return errors.Join(errs...)
}

// syncMenu sets a's menu in scope, in lang for every app language when lang is
// not "", or deletes the scope's menus when the wider scope's serve (a plain
// member who chose no language).
func (b *Bot) syncMenu(ctx context.Context, scope telegram.CommandScope, a audience, lang string) error {
	key := scopeName(scope)
	old, err := b.p.Store.MenuMark(ctx, key)
	if err != nil {
		return err
	}
	menuIn := func(appLang string) []telegram.BotCommand {
		if lang != "" {
			return b.menu(lang, a)
		}
		return b.menu(appLang, a)
	}
	mark := ""
	if a.who >= committee || lang != "" {
		// The bot's name is part of the mark: another bot over the same Redis
		// (a new token) has none of these menus yet.
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00", b.p.BotUsername)
		for _, l := range b.menuLangs() {
			for _, c := range menuIn(l) {
				fmt.Fprintf(h, "%s\x00%s\x00%s\x00", l, c.Command, c.Description)
			}
		}
		mark = hex.EncodeToString(h.Sum(nil))[:16]
	}
	if mark == old {
		return nil
	}
	for i, l := range b.menuLangs() {
		var req telegram.Request
		if mark == "" {
			del := telegram.DeleteMyCommands{Scope: scope}
			if i > 0 {
				del.LanguageCode = l
			}
			req = del
		} else {
			set := telegram.SetMyCommands{Commands: menuIn(l), Scope: scope}
			if i > 0 {
				set.LanguageCode = l
			}
			req = set
		}
		if err := b.p.Telegram.Do(ctx, req, nil); err != nil {
			return fmt.Errorf("bot: %s %s menu of %s: %w", req.Method(), l, key, err)
		}
	}
	return b.p.Store.SetMenuMark(ctx, key, mark)
}

// syncMenus is Bot.syncMenus for a handler: a failure is logged, since the
// change it follows is done.
func (r *request) syncMenus(c cell.Cell, m cell.Member) {
	if err := r.b.syncMenus(r.ctx, c, m); err != nil {
		r.log.Warn("command menus", "member", m.ID, "err", err)
	}
}
