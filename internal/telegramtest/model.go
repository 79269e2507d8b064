package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

type userState struct {
	id        int64
	firstName string
	lang      string
	started   bool
	blocked   bool
	lastName  string         // UserNamed
	nextExtra map[string]any // fields for the next message sent (sendWith)
}

func (u *userState) json() map[string]any {
	obj := map[string]any{"id": u.id, "is_bot": false, "first_name": u.firstName, "language_code": u.lang}
	if u.lastName != "" {
		obj["last_name"] = u.lastName
	}
	return obj
}

func botUserJSON() map[string]any {
	return map[string]any{"id": BotID, "is_bot": true, "first_name": BotFirstName, "username": BotUsername}
}

type chat struct {
	id  int64
	typ string // "private", "group" or "supergroup"
	// migratedTo is the supergroup a basic group became (Group.Migrate).
	migratedTo int64
	title      string
	user       *userState // private chats
	members    map[int64]string
	nextMsgID  int
	messages   []*message
}

func (c *chat) json() map[string]any {
	if c.typ == "private" {
		return map[string]any{"id": c.id, "type": "private", "first_name": c.user.firstName}
	}
	return map[string]any{"id": c.id, "type": c.typ, "title": c.title}
}

func (c *chat) find(id int) *message {
	for _, m := range c.messages {
		if m.id == id {
			return m
		}
	}
	return nil
}

type file struct {
	id, uniqueID, path, name, mime, kind string
	data                                 []byte
	width, height                        int
}

func (f *file) documentJSON() map[string]any {
	return map[string]any{"file_id": f.id, "file_unique_id": f.uniqueID, "file_name": f.name, "mime_type": f.mime, "file_size": len(f.data)}
}

func (f *file) photoJSON() []map[string]any {
	return []map[string]any{{"file_id": f.id, "file_unique_id": f.uniqueID, "width": f.width, "height": f.height, "file_size": len(f.data)}}
}

// storeFileLocked stores an uploaded file. s.mu must be held.
func (s *Server) storeFileLocked(kind, name, mimeType string, data []byte) *file {
	s.nextFileID++
	n := s.nextFileID
	ext := path.Ext(name)
	if t := mime.TypeByExtension(ext); t != "" {
		mimeType = t
	}
	if t, _, err := mime.ParseMediaType(mimeType); err == nil {
		mimeType = t
	} else {
		mimeType = "application/octet-stream"
	}
	f := &file{name: name, mime: mimeType, kind: kind, data: data, uniqueID: fmt.Sprintf("AQADtest%06d", n)}
	switch kind {
	case "photo":
		f.id = fmt.Sprintf("AgACAgIAAxTestPhoto%06d", n)
		f.path = fmt.Sprintf("photos/file_%d.jpg", n)
	default:
		f.id = fmt.Sprintf("BQACAgIAAxTestDoc%06d", n)
		if ext == "" {
			ext = ".bin"
		}
		f.path = fmt.Sprintf("documents/file_%d%s", n, ext)
	}
	s.files[f.id] = f
	return f
}

type message struct {
	chat     *chat
	id       int
	date     time.Time
	fromBot  bool
	from     *userState
	text     string
	raw      string
	mode     string
	entities []entity
	caption  string
	rawCapt  string
	captEnts []entity
	doc      *file
	photo    *file
	markup   []byte // normalized inline keyboard JSON, nil if none
	buttons  [][]Button
	replyTo  *message
	edits    int
	editDate time.Time
	pinned   bool
	deleted  bool
	extra    map[string]any // fields of a user's message the scripts set (topic, forward)
}

func (m *message) json(withReply bool) map[string]any {
	obj := map[string]any{"message_id": m.id, "date": m.date.Unix(), "chat": m.chat.json()}
	for k, v := range m.extra {
		obj[k] = v
	}
	if m.fromBot {
		obj["from"] = botUserJSON()
	} else if m.from != nil {
		obj["from"] = m.from.json()
	}
	if m.doc != nil {
		obj["document"] = m.doc.documentJSON()
	}
	if m.photo != nil {
		obj["photo"] = m.photo.photoJSON()
	}
	if m.doc != nil || m.photo != nil {
		if m.caption != "" {
			obj["caption"] = m.caption
		}
		if len(m.captEnts) > 0 {
			obj["caption_entities"] = m.captEnts
		}
	} else {
		obj["text"] = m.text
		if len(m.entities) > 0 {
			obj["entities"] = m.entities
		}
	}
	if m.markup != nil {
		obj["reply_markup"] = json.RawMessage(m.markup)
	}
	if withReply && m.replyTo != nil {
		obj["reply_to_message"] = m.replyTo.json(false)
	}
	if !m.editDate.IsZero() {
		obj["edit_date"] = m.editDate.Unix()
	}
	return obj
}

// Button is an inline keyboard button as the bot sent it.
type Button struct {
	Text         string
	CallbackData string
	URL          string
}

// Message is a bot-sent message in its current state (after edits).
type Message struct {
	MessageID int
	ChatID    int64
	// Text is the visible text (after HTML entity parsing); RawText is the text
	// as sent, markup included.
	Text      string
	RawText   string
	ParseMode string
	Buttons   [][]Button
	// DocumentFileID and PhotoFileID are set for documents and photos.
	DocumentFileID string
	PhotoFileID    string
	// Caption is the visible caption of a document or photo.
	Caption          string
	ReplyToMessageID int
	Edits            int
	Pinned           bool
	Deleted          bool
	Date             time.Time
	// FromBot is true for the bot's messages; From and FromID name the user
	// who sent any other (Transcript).
	FromBot bool
	From    string
	FromID  int64
	// Entities are the formatting of Text, or of Caption for a document or
	// photo, in UTF-16 code units as Telegram counts them.
	Entities []Entity
	// FileName is the name of a document.
	FileName string
}

// Entity is one formatting span of a message (bold, a link…), as Telegram's
// MessageEntity.
type Entity struct {
	Type     string // "bold", "italic", "text_link", "pre"…
	Offset   int
	Length   int
	URL      string
	Language string
}

func (m *message) export() Message {
	out := Message{
		MessageID: m.id, ChatID: m.chat.id, Text: m.text, RawText: m.raw, ParseMode: m.mode,
		Caption: m.caption, Edits: m.edits, Pinned: m.pinned, Deleted: m.deleted, Date: m.date,
		FromBot: m.fromBot,
	}
	if m.from != nil {
		out.From, out.FromID = m.from.firstName, m.from.id
	}
	ents := m.entities
	if m.doc != nil || m.photo != nil {
		ents = m.captEnts
	}
	for _, e := range ents {
		out.Entities = append(out.Entities, Entity(e))
	}
	if m.doc != nil {
		out.FileName = m.doc.name
	}
	for _, row := range m.buttons {
		out.Buttons = append(out.Buttons, slices.Clone(row))
	}
	if m.doc != nil {
		out.DocumentFileID = m.doc.id
	}
	if m.photo != nil {
		out.PhotoFileID = m.photo.id
	}
	if m.replyTo != nil {
		out.ReplyToMessageID = m.replyTo.id
	}
	return out
}

// arrayOfArrays reports whether raw is a JSON array of arrays: the Bot API
// refuses null for the keyboard or for a row, which json.Unmarshal takes as empty.
func arrayOfArrays(raw json.RawMessage) bool {
	var rows []json.RawMessage
	if json.Unmarshal(raw, &rows) != nil || rows == nil {
		return false
	}
	for _, r := range rows {
		if t := strings.TrimSpace(string(r)); !strings.HasPrefix(t, "[") {
			return false
		}
	}
	return true
}

// parseMarkup validates reply_markup. It returns the normalized inline
// keyboard (nil for none or for a reply keyboard) and its buttons.
func parseMarkup(raw string) ([]byte, [][]Button, *apiError) {
	if strings.TrimSpace(raw) == "" || raw == "null" {
		return nil, nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	ik, ok := m["inline_keyboard"]
	if !ok {
		if _, ok := m["keyboard"]; ok {
			return nil, nil, nil
		}
		if _, ok := m["remove_keyboard"]; ok {
			return nil, nil, nil
		}
		if _, ok := m["force_reply"]; ok {
			return nil, nil, nil
		}
		return nil, nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	var rows [][]map[string]json.RawMessage
	if err := json.Unmarshal(ik, &rows); err != nil || !arrayOfArrays(ik) {
		return nil, nil, badRequest("can't parse inline keyboard markup: field \"inline_keyboard\" must be an Array of Arrays")
	}
	var buttons [][]Button
	var norm [][]map[string]any
	for _, row := range rows {
		var brow []Button
		var nrow []map[string]any
		for _, b := range row {
			var text string
			if err := json.Unmarshal(b["text"], &text); err != nil {
				return nil, nil, badRequest("can't parse inline keyboard button: Field \"text\" must be of type String")
			}
			btn := Button{Text: text}
			nb := map[string]any{"text": text}
			actions := 0
			for k, v := range b {
				if k == "text" {
					continue
				}
				actions++
				switch k {
				case "callback_data":
					if err := json.Unmarshal(v, &btn.CallbackData); err != nil || btn.CallbackData == "" || len(btn.CallbackData) > maxCallbackData {
						return nil, nil, badRequest("BUTTON_DATA_INVALID")
					}
					nb[k] = btn.CallbackData
				case "url":
					if err := json.Unmarshal(v, &btn.URL); err != nil || !validButtonURL(btn.URL) {
						return nil, nil, badRequest("BUTTON_URL_INVALID")
					}
					nb[k] = btn.URL
				default:
					nb[k] = json.RawMessage(v)
				}
			}
			if actions == 0 {
				return nil, nil, badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
			brow = append(brow, btn)
			nrow = append(nrow, nb)
		}
		buttons = append(buttons, brow)
		norm = append(norm, nrow)
	}
	if len(norm) == 0 {
		return nil, nil, nil
	}
	out, err := json.Marshal(map[string]any{"inline_keyboard": norm})
	if err != nil {
		return nil, nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	return out, buttons, nil
}

func validButtonURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != ""
	case "tg":
		return true
	}
	return false
}

func sameEntities(a, b []entity) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return bytes.Equal(x, y)
}

type update struct {
	id          int
	kind        string
	body        []byte
	redelivered bool
	returned    bool
}

type callbackQuery struct {
	id         string
	created    time.Time
	answered   bool
	answeredAt time.Time
}
