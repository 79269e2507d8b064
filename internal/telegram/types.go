// Package telegram owns everything the bot knows about the Telegram Bot API: the
// only import of github.com/go-telegram-bot-api/telegram-bot-api/v5, the subset of
// the API's types the bot reads, typed errors, the long-poll loop with its own
// offset and the webhook handler.
//
// The rest of the project talks to Telegram through the small Caller interface, so
// the unmaintained library (its last release is v5.5.1, 2021) can be swapped for a fork in one place.
package telegram

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
)

// Update is one incoming update; only the kinds the bot asks for are decoded.
type Update struct {
	UpdateID      int            `json:"update_id"`
	Message       *Message       `json:"message,omitempty"`
	CallbackQuery *CallbackQuery `json:"callback_query,omitempty"`
	MyChatMember  *ChatMemberUpd `json:"my_chat_member,omitempty"`
}

// Kind names the update's kind, for logs and metrics.
func (u Update) Kind() string {
	switch {
	case u.Message != nil:
		return "message"
	case u.CallbackQuery != nil:
		return "callback_query"
	case u.MyChatMember != nil:
		return "my_chat_member"
	}
	return "other"
}

// ChatID is the chat the update concerns, 0 when there is none. The poller uses it
// to keep the updates of one chat in order.
func (u Update) ChatID() int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID
	}
	return 0
}

// SenderID is the user the update comes from, 0 when it names none.
func (u Update) SenderID() int64 {
	switch {
	case u.Message != nil && u.Message.From != nil:
		return u.Message.From.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.From.ID
	}
	return 0
}

// Key names the update for the handled-once record and for ids derived from it
// (a broadcast's job): its update_id with a fingerprint of what it carries. A
// redelivery has the same key; an update_id that comes again with other content
// (Telegram picks ids at random after a week without updates; a test server may
// start again from 1 over the same Redis) is a new update.
func (u Update) Key() string {
	h := fnv.New64a()
	switch {
	case u.Message != nil:
		fmt.Fprintf(h, "m:%d:%d:%d", u.Message.Chat.ID, u.Message.MessageID, u.Message.Date)
	case u.CallbackQuery != nil:
		fmt.Fprintf(h, "c:%s", u.CallbackQuery.ID)
	case u.MyChatMember != nil:
		fmt.Fprintf(h, "k:%d:%d:%d", u.MyChatMember.Chat.ID, u.MyChatMember.From.ID, u.MyChatMember.Date)
	}
	return strconv.Itoa(u.UpdateID) + "-" + strconv.FormatUint(h.Sum64(), 36)
}

// User is a Telegram user or bot.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot,omitempty"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// FullName joins the first and last names.
func (u User) FullName() string {
	if u.LastName == "" {
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// Chat types.
const (
	ChatPrivate    = "private"
	ChatGroup      = "group"
	ChatSupergroup = "supergroup"
	ChatChannel    = "channel"
)

// Chat is a private chat, group, supergroup or channel.
type Chat struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"`
	Title    string `json:"title,omitempty"`
	Username string `json:"username,omitempty"`
}

// IsPrivate reports whether the chat is a one-to-one chat with a user.
func (c Chat) IsPrivate() bool { return c.Type == ChatPrivate }

// IsGroup reports whether the chat is a group or supergroup.
func (c Chat) IsGroup() bool { return c.Type == ChatGroup || c.Type == ChatSupergroup }

// Message is a message in a chat.
type Message struct {
	MessageID      int                   `json:"message_id"`
	From           *User                 `json:"from,omitempty"`
	Chat           Chat                  `json:"chat"`
	Date           int64                 `json:"date"`
	Text           string                `json:"text,omitempty"`
	Entities       []MessageEntity       `json:"entities,omitempty"`
	Caption        string                `json:"caption,omitempty"`
	Document       *Document             `json:"document,omitempty"`
	ReplyToMessage *Message              `json:"reply_to_message,omitempty"`
	ReplyMarkup    *InlineKeyboardMarkup `json:"reply_markup,omitempty"`
	// MigrateToChatID is set on the service message in a basic group that became
	// a supergroup: the group's new chat id.
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`

	// MessageThreadID is the forum topic (or thread) the message belongs to;
	// replies go to the same one.
	MessageThreadID int  `json:"message_thread_id,omitempty"`
	IsTopicMessage  bool `json:"is_topic_message,omitempty"`
	// ForwardOrigin (Bot API 7.0) and ForwardDate (before it) are set on a
	// forwarded message: a forwarded command is not the forwarder's command.
	ForwardOrigin json.RawMessage `json:"forward_origin,omitempty"`
	ForwardDate   int64           `json:"forward_date,omitempty"`
}

// Forwarded reports whether the message was forwarded from elsewhere.
func (m *Message) Forwarded() bool { return len(m.ForwardOrigin) > 0 || m.ForwardDate != 0 }

// MessageEntity marks a span of a message's text, such as a bot command.
type MessageEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
}

// Document is a general file.
type Document struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int64  `json:"file_size,omitempty"`
}

// File is the answer to getFile.
type File struct {
	FileID   string `json:"file_id"`
	FileSize int64  `json:"file_size,omitempty"`
	FilePath string `json:"file_path,omitempty"`
}

// CallbackQuery is a press of an inline keyboard button.
type CallbackQuery struct {
	ID      string   `json:"id"`
	From    User     `json:"from"`
	Message *Message `json:"message,omitempty"`
	Data    string   `json:"data,omitempty"`
}

// ChatMemberUpd reports a change of the bot's own membership in a chat.
type ChatMemberUpd struct {
	Chat Chat  `json:"chat"`
	From User  `json:"from"`
	Date int64 `json:"date"`
	// The bot's membership before and after ("left", "kicked" when
	// it was removed).
	OldChatMember ChatMember `json:"old_chat_member"`
	NewChatMember ChatMember `json:"new_chat_member"`
}

// ChatMember is the answer to getChatMember.
type ChatMember struct {
	Status string `json:"status"`
	User   User   `json:"user"`
}

// IsAdmin reports whether the member administers the chat.
func (m ChatMember) IsAdmin() bool { return m.Status == "creator" || m.Status == "administrator" }

// InlineKeyboardMarkup is a keyboard under a message.
type InlineKeyboardMarkup struct {
	InlineKeyboard [][]InlineKeyboardButton `json:"inline_keyboard"`
}

// MarshalJSON writes no rows, and a row without buttons, as empty arrays: the
// Bot API refuses a null where it expects an array ("field "inline_keyboard"
// must be of type Array"), and a keyboard built from an empty list has nil rows.
func (k InlineKeyboardMarkup) MarshalJSON() ([]byte, error) {
	rows := make([][]InlineKeyboardButton, len(k.InlineKeyboard))
	for i, r := range k.InlineKeyboard {
		if r == nil {
			r = []InlineKeyboardButton{}
		}
		rows[i] = r
	}
	return json.Marshal(struct {
		InlineKeyboard [][]InlineKeyboardButton `json:"inline_keyboard"`
	}{rows})
}

// InlineKeyboardButton is a button that sends callback data or opens a URL.
type InlineKeyboardButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// BotCommand is one entry of setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only called with the package's own plain structs.
		panic(err)
	}
	return string(b)
}
