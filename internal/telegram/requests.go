package telegram

import "strconv"

// ParseHTML is the parse mode of every message the bot writes: user text is
// escaped before it goes in (texts.Escape).
const ParseHTML = "HTML"

// SendMessage is sendMessage, always in HTML parse mode.
type SendMessage struct {
	ChatID   int64
	Text     string
	Keyboard *InlineKeyboardMarkup
	ReplyTo  int
	Silent   bool
	ThreadID int // the forum topic to post in, 0 for none
}

// Method implements Request.
func (m SendMessage) Method() string { return "sendMessage" }

// Params implements Request.
func (m SendMessage) Params() Params {
	p := Params{"chat_id": itoa(m.ChatID), "text": m.Text, "parse_mode": ParseHTML, "disable_web_page_preview": "true"}
	if m.Keyboard != nil {
		p["reply_markup"] = mustJSON(m.Keyboard)
	}
	if m.ReplyTo != 0 {
		p["reply_to_message_id"] = strconv.Itoa(m.ReplyTo)
		p["allow_sending_without_reply"] = "true"
	}
	if m.Silent {
		p["disable_notification"] = "true"
	}
	if m.ThreadID != 0 {
		p["message_thread_id"] = strconv.Itoa(m.ThreadID)
	}
	return p
}

// EditMessageText is editMessageText in HTML parse mode.
type EditMessageText struct {
	ChatID    int64
	MessageID int
	Text      string
	Keyboard  *InlineKeyboardMarkup
}

// Method implements Request.
func (m EditMessageText) Method() string { return "editMessageText" }

// Params implements Request.
func (m EditMessageText) Params() Params {
	p := Params{"chat_id": itoa(m.ChatID), "message_id": strconv.Itoa(m.MessageID), "text": m.Text, "parse_mode": ParseHTML, "disable_web_page_preview": "true"}
	if m.Keyboard != nil {
		p["reply_markup"] = mustJSON(m.Keyboard)
	}
	return p
}

// EditMessageReplyMarkup replaces (or, with a nil keyboard, removes) a message's buttons.
type EditMessageReplyMarkup struct {
	ChatID    int64
	MessageID int
	Keyboard  *InlineKeyboardMarkup
}

// Method implements Request.
func (m EditMessageReplyMarkup) Method() string { return "editMessageReplyMarkup" }

// Params implements Request.
func (m EditMessageReplyMarkup) Params() Params {
	kb := m.Keyboard
	if kb == nil {
		kb = &InlineKeyboardMarkup{InlineKeyboard: [][]InlineKeyboardButton{}}
	}
	return Params{"chat_id": itoa(m.ChatID), "message_id": strconv.Itoa(m.MessageID), "reply_markup": mustJSON(kb)}
}

// AnswerCallbackQuery stops the button's spinner, optionally with a short notice.
type AnswerCallbackQuery struct {
	ID    string
	Text  string
	Alert bool
}

// Method implements Request.
func (m AnswerCallbackQuery) Method() string { return "answerCallbackQuery" }

// Params implements Request.
func (m AnswerCallbackQuery) Params() Params {
	p := Params{"callback_query_id": m.ID}
	if m.Text != "" {
		p["text"] = truncateRunes(m.Text, 200)
	}
	if m.Alert {
		p["show_alert"] = "true"
	}
	return p
}

// SendDocument sends a document already on Telegram's servers, by file_id.
type SendDocument struct {
	ChatID  int64
	FileID  string
	Caption string
}

// Method implements Request.
func (m SendDocument) Method() string { return "sendDocument" }

// Params implements Request.
func (m SendDocument) Params() Params {
	p := Params{"chat_id": itoa(m.ChatID), "document": m.FileID}
	if m.Caption != "" {
		p["caption"] = m.Caption
		p["parse_mode"] = ParseHTML
	}
	return p
}

// Upload sends a new file (sendDocument or sendPhoto) as multipart.
type Upload struct {
	Name     string // sendDocument or sendPhoto
	ChatID   int64
	Field    string // document or photo
	FileName string
	Data     []byte
	Caption  string
}

// Method implements Request.
func (m Upload) Method() string { return m.Name }

// Params implements Request.
func (m Upload) Params() Params {
	p := Params{"chat_id": itoa(m.ChatID)}
	if m.Caption != "" {
		p["caption"] = m.Caption
		p["parse_mode"] = ParseHTML
	}
	return p
}

// SetMyCommands registers the command list for a scope and a language ("" for
// users whose language has no list of its own).
type SetMyCommands struct {
	Commands     []BotCommand
	LanguageCode string
	Scope        CommandScope
}

// Method implements Request.
func (m SetMyCommands) Method() string { return "setMyCommands" }

// Params implements Request.
func (m SetMyCommands) Params() Params {
	p := m.Scope.params(m.LanguageCode)
	p["commands"] = mustJSON(m.Commands)
	return p
}

// DeleteMyCommands removes the command list of a scope and a language, so that
// the users it covered see the list of the next wider scope.
type DeleteMyCommands struct {
	LanguageCode string
	Scope        CommandScope
}

// Method implements Request.
func (m DeleteMyCommands) Method() string { return "deleteMyCommands" }

// Params implements Request.
func (m DeleteMyCommands) Params() Params { return m.Scope.params(m.LanguageCode) }

// CommandScope is a BotCommandScope: Type "default", "all_private_chats",
// "all_group_chats", "chat" (ChatID) or "chat_member" (ChatID and UserID). The
// zero value is the default scope.
type CommandScope struct {
	Type   string
	ChatID int64
	UserID int64
}

func (s CommandScope) params(lang string) Params {
	p := Params{}
	if lang != "" {
		p["language_code"] = lang
	}
	switch s.Type {
	case "", "default":
	case "chat":
		p["scope"] = mustJSON(map[string]any{"type": s.Type, "chat_id": s.ChatID})
	case "chat_member":
		p["scope"] = mustJSON(map[string]any{"type": s.Type, "chat_id": s.ChatID, "user_id": s.UserID})
	default:
		p["scope"] = mustJSON(map[string]string{"type": s.Type})
	}
	return p
}

// GetChatMember asks for a user's status in a chat.
type GetChatMember struct {
	ChatID int64
	UserID int64
}

// Method implements Request.
func (m GetChatMember) Method() string { return "getChatMember" }

// Params implements Request.
func (m GetChatMember) Params() Params {
	return Params{"chat_id": itoa(m.ChatID), "user_id": itoa(m.UserID)}
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
