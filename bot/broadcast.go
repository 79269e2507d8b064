package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Room for the header on the first part of a long text, in characters.
const (
	textLimit    = 4096
	captionLimit = 1024
	headerRoom   = 200
)

// broadcast is /broadcast <text>, or a document sent with /broadcast as its
// caption or replied to with /broadcast: it goes to every member through the
// delivery queue, with a progress message and a report for the sender.
func (b *Bot) broadcast(r *request) error {
	doc := r.msg.Document
	if doc == nil && r.msg.ReplyToMessage != nil {
		doc = r.msg.ReplyToMessage.Document
	}
	text := strings.TrimSpace(r.args)
	if text == "" && doc == nil {
		return texts.Errorf(texts.BroadcastUsage)
	}
	if !cell.Readable(text) && doc == nil {
		return texts.Errorf(texts.BroadcastUnreadable)
	}
	name := texts.Escape(r.cell.Name)
	header := func(lang string) string { return texts.T(lang, texts.BroadcastHeader, name) }
	if doc != nil {
		return b.deliver(r, "broadcast", documentParts(header, doc.FileID, text), storage.PriorityBulk)
	}
	return b.deliver(r, "broadcast", textParts(header, text), storage.PriorityBulk)
}

// agenda is /agenda <items, one a line>: it becomes the next meeting's agenda and
// goes to every member but the sender, headed by the meeting's date.
func (b *Bot) agenda(r *request) error {
	if doc := r.msg.Document; doc != nil {
		return b.agendaDocument(r, doc)
	}
	if r.msg.ReplyToMessage != nil && r.msg.ReplyToMessage.Document != nil {
		return b.agendaDocument(r, r.msg.ReplyToMessage.Document)
	}
	text := strings.TrimSpace(r.args)
	if text == "" {
		return texts.Errorf(texts.AgendaUsage)
	}
	if !cell.Readable(text) {
		return texts.Errorf(texts.BroadcastUnreadable)
	}
	next, err := b.nextMeeting(r)
	if err != nil {
		return texts.Errorf(texts.AgendaNoMeeting)
	}
	if _, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, next.ID, func(m *cell.Meeting) error {
		m.Agenda = agendaItems(text)
		return nil
	}); err != nil {
		return err
	}
	name, start := texts.Escape(r.cell.Name), next.Start.In(r.location())
	header := func(lang string) string {
		return "📋 <b>" + name + "</b>\n" + texts.T(lang, texts.AgendaForMeeting, texts.DateTime(lang, start))
	}
	return b.deliver(r, "agenda", textParts(header, text), storage.PriorityBulk)
}

// partsFor builds one recipient's requests, with the bot's words in their
// language.
type partsFor func(chatID int64, lang string) []telegram.Raw

// textParts is the header (in the recipient's language) and the user's text,
// split at line breaks into messages Telegram takes. The raw text is split
// before escaping, so that no part ends inside an entity; Telegram counts the
// length after entity parsing.
func textParts(header func(lang string) string, text string) partsFor {
	chunks := delivery.Split(text, textLimit-headerRoom)
	byLang := map[string][]string{}
	return func(chatID int64, lang string) []telegram.Raw {
		bodies, ok := byLang[lang]
		if !ok {
			for i, c := range chunks {
				body := texts.Escape(c)
				if i == 0 {
					body = header(lang) + "\n\n" + body
				}
				bodies = append(bodies, body)
			}
			byLang[lang] = bodies
		}
		return delivery.TextParts(chatID, bodies, nil)
	}
}

// documentParts sends the document with the header and text as its caption, or,
// when the text is too long for a caption, the document then the text.
func documentParts(header func(lang string) string, fileID, text string) partsFor {
	// Telegram counts UTF-16 units (an emoji is two), as Split does.
	if len(delivery.Split(text, captionLimit-headerRoom)) <= 1 {
		return func(chatID int64, lang string) []telegram.Raw {
			caption := header(lang)
			if text != "" {
				caption += "\n\n" + texts.Escape(text)
			}
			return []telegram.Raw{delivery.RawOf(telegram.SendDocument{ChatID: chatID, FileID: fileID, Caption: caption})}
		}
	}
	rest := textParts(header, text)
	return func(chatID int64, lang string) []telegram.Raw {
		doc := delivery.RawOf(telegram.SendDocument{ChatID: chatID, FileID: fileID, Caption: header(lang)})
		return append([]telegram.Raw{doc}, rest(chatID, lang)...)
	}
}

// deliver queues parts to every member with Telegram, as one job reported to the
// sender. The job's id comes from the update, so an update handled twice queues
// nothing more.
func (b *Bot) deliver(r *request, purpose string, parts partsFor, priority int) error {
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	// Every member but the sender; the members without Telegram are named in
	// the report, to be told in person. An unlisted record (an operator) is no
	// member.
	var recipients []cell.Member
	var offline []string
	today := r.today()
	for _, m := range cell.Current(roster, today) {
		switch {
		case purpose == "agenda" && !m.GetsNotices(today):
			// An exempt or away member who asked for no notices and agendas;
			// an announcement still reaches them.
		case m.UserID == r.from.ID:
		case m.UserID == 0:
			offline = append(offline, m.Name)
		default:
			recipients = append(recipients, m)
		}
	}
	if len(recipients) == 0 {
		return texts.Errorf(texts.BroadcastNoOne)
	}
	langs, err := b.langsOf(r.ctx, *r.cell, recipients) // each gets the bot's words in their language
	if err != nil {
		return err
	}
	now := b.p.Now().In(r.cell.Location())
	var notBefore time.Time
	status := r.t(texts.DeliveryStarted, texts.Count(r.lang, len(recipients), texts.CountMember))
	if until, quiet := r.cell.Quiet.Until(now); quiet && priority == storage.PriorityBulk {
		notBefore = until
		status = r.t(texts.DeliveryQuiet, texts.Count(r.lang, len(recipients), texts.CountMember), texts.DateTime(r.lang, until))
	}
	if r.chat.IsGroup() {
		// Sent from the group: the progress and the report go to the sender's
		// private chat; say so when they never opened it.
		if opened, err := b.p.Store.Opened(r.ctx, r.from.ID); err == nil && !opened {
			r.reply(r.t(texts.DeliveryOpenBot, b.p.BotUsername))
		}
	}
	jobID := purpose + "-" + r.update.Key()
	msgs := make([]delivery.Message, 0, len(recipients))
	for _, m := range recipients {
		lang := langs[m.UserID]
		msgs = append(msgs, delivery.Message{
			ID:        fmt.Sprintf("%s:%d", jobID, m.ID),
			To:        storage.QueueRecipient{CellID: r.cell.ID, MemberID: m.ID, ChatID: m.UserID, Name: m.Name},
			Parts:     parts(m.UserID, lang),
			Purpose:   purpose,
			Priority:  priority,
			NotBefore: notBefore,
		})
	}
	job := storage.QueueJob{
		ID: jobID, CellID: r.cell.ID, Purpose: purpose, Lang: r.lang,
		ReportChatID: r.from.ID, Progress: r.cellTag + status, Offline: offline, Tag: r.cellTag,
	}
	if _, err := b.p.Delivery.StartJob(r.ctx, job, msgs); err != nil {
		return fmt.Errorf("queue %s to %d members: %w", purpose, len(msgs), err)
	}
	r.log.Info("job queued", "job", jobID, "purpose", purpose, "recipients", len(msgs))
	return nil
}

// Unreachable is called by delivery when Telegram refuses to deliver to a member
// (blocked, or never opened the bot): the member is marked, and the first time the
// committee is told, through the queue with fixed ids so that the notice is
// neither lost to the rate limits nor sent twice.
func (b *Bot) Unreachable(ctx context.Context, cellID, memberID int64) {
	log := b.p.Logger.With("cell", cellID, "member", memberID)
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic in the unreachable hook", "panic", p)
		}
	}()
	first, err := b.p.Store.MarkUnreachable(ctx, cellID, memberID, b.p.Now().Unix())
	if err != nil {
		log.Error("mark unreachable", "err", err)
		return
	}
	if !first {
		return
	}
	if err := b.tellUnreachable(ctx, cellID, memberID); err != nil {
		log.Error("tell the committee about an unreachable member", "err", err)
	}
}

func (b *Bot) tellUnreachable(ctx context.Context, cellID, memberID int64) error {
	c, err := b.p.Store.Cell(ctx, cellID)
	if err != nil {
		return err
	}
	m, err := b.p.Store.Member(ctx, cellID, memberID)
	if err != nil {
		return err
	}
	// Only the committee hears whom the bot cannot reach, never the group.
	return b.notifyCommittee(ctx, c, fmt.Sprintf("unreachable:%d:%d", cellID, memberID), memberID, false,
		func(lang string) (string, *telegram.InlineKeyboardMarkup) {
			return texts.T(lang, texts.DeliveryCantReach, texts.Escape(m.Name)), nil
		})
}
