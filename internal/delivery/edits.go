package delivery

import (
	"context"
	"hash/fnv"
	"log/slog"
	"strconv"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// editMarks is the Caller under every path out (queue, Direct, Immediate):
// an edit identical to the last one sent for its message is not sent, since
// Telegram refuses it ("message is not modified"). A member who presses the
// answer already chosen twice in a row, before the first edit reaches their
// screen, presses a message whose content the bot's second edit no longer
// changes; the press carries the old content, so only the last edit sent can
// tell. The mark is written once Telegram took the edit: two processes
// sending one edit at once may both send it (one is told "not modified").
type editMarks struct {
	next  telegram.Caller
	store *storage.Store
	log   *slog.Logger
}

// editMethods are the edits a mark is kept for, with the parameters that make
// up a message's content.
var editMethods = map[string][]string{
	"editMessageText":        {"text", "parse_mode", "entities", "reply_markup", "disable_web_page_preview", "link_preview_options"},
	"editMessageCaption":     {"caption", "parse_mode", "caption_entities", "reply_markup"},
	"editMessageReplyMarkup": {"reply_markup"},
	"editMessageMedia":       {"media", "reply_markup"},
}

// Do implements telegram.Caller.
func (e editMarks) Do(ctx context.Context, req telegram.Request, result any) error {
	fields, ok := editMethods[req.Method()]
	if !ok {
		return e.next.Do(ctx, req, result)
	}
	p := req.Params()
	chat, err := strconv.ParseInt(p["chat_id"], 10, 64)
	msg := p["message_id"]
	if err != nil || msg == "" {
		return e.next.Do(ctx, req, result)
	}
	h := fnv.New64a()
	h.Write([]byte(req.Method()))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(p[f]))
	}
	// An uploaded file is content too: a check-in step's new QR may come
	// with the same four digits as the last.
	if raw, ok := req.(telegram.Raw); ok {
		for _, f := range raw.Files {
			h.Write([]byte{0})
			h.Write([]byte(f.Field))
			h.Write(f.Data)
		}
	}
	mark := strconv.FormatUint(h.Sum64(), 36)
	last, merr := e.store.EditMark(ctx, chat, msg)
	switch {
	case merr != nil:
		e.log.Warn("delivery: read the last edit; sending it", "err", merr)
	case last == mark:
		return nil
	}
	err = e.next.Do(ctx, req, result)
	if err == nil || telegram.IsNotModified(err) {
		if serr := e.store.SetEditMark(context.WithoutCancel(ctx), chat, msg, mark); serr != nil {
			e.log.Warn("delivery: mark an edit", "err", serr)
		}
	}
	return err
}
