package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
)

// help says what the user can do here, for their role.
func (b *Bot) help(r *request) error {
	if r.chat.IsGroup() {
		text := r.t(texts.HelpGroup)
		if r.cell == nil {
			text += "\n\n" + r.t(texts.CommonNoCellGroup)
		}
		r.reply(text)
		return nil
	}
	if r.member == nil {
		r.reply(r.t(texts.HelpGuest))
		return nil
	}
	parts := []string{r.t(texts.HelpMember)}
	if r.isCommittee() {
		parts = append(parts, r.t(texts.HelpCommittee))
	}
	if r.role() == cell.RoleSecretary {
		parts = append(parts, r.t(texts.HelpSecretary))
	}
	r.reply(strings.Join(parts, "\n\n"))
	return nil
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

// commandList is what setMyCommands shows, in the order shown.
var commandList = []struct {
	name string
	desc texts.Key
}{
	{"help", texts.CmdHelp},
	{"members", texts.CmdMembers},
	{"broadcast", texts.CmdBroadcast},
	{"agenda", texts.CmdAgenda},
	{"import", texts.CmdImport},
	{"exempt", texts.CmdExempt},
	{"away", texts.CmdAway},
	{"regular", texts.CmdRegular},
	{"attached", texts.CmdAttached},
	{"promote", texts.CmdPromote},
	{"demote", texts.CmdDemote},
	{"join", texts.CmdJoin},
	{"setup", texts.CmdSetup},
	{"lang", texts.CmdLang},
	{"cancel", texts.CmdCancel},
	{"start", texts.CmdStart},
}

// RegisterCommands registers the command list in Vietnamese (the default list)
// and English.
func (b *Bot) RegisterCommands(ctx context.Context) error {
	for _, lang := range []string{texts.VI, texts.EN} {
		cmds := make([]telegram.BotCommand, 0, len(commandList))
		for _, c := range commandList {
			cmds = append(cmds, telegram.BotCommand{Command: c.name, Description: texts.T(lang, c.desc)})
		}
		req := telegram.SetMyCommands{Commands: cmds}
		if lang == texts.EN {
			req.LanguageCode = texts.EN
		}
		if err := b.p.Telegram.Do(ctx, req, nil); err != nil {
			return fmt.Errorf("bot: set %s commands: %w", lang, err)
		}
	}
	return nil
}
