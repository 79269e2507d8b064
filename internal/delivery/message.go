package delivery

import (
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// Limits of a message's length, in UTF-16 code units as Telegram counts them
// (LIBRARIES.md, "The Bot API itself").
const (
	MaxText    = 4096
	MaxCaption = 1024
)

// Message is one queued message: the parts are sent in order to To.ChatID.
type Message struct {
	// ID is deterministic, given by the caller ("bc:<jobID>:<memberID>"):
	// enqueuing an id that is waiting, in flight or was sent within
	// storage.QueueRetention is a no-op, so an update handled twice does not send
	// twice.
	ID string
	To storage.QueueRecipient
	// Parts are the requests (sendMessage, sendDocument by file_id, …) in order.
	// Uploads of new files cannot be queued: their bytes are not in Params.
	Parts []telegram.Raw
	// Purpose is for logs: broadcast, agenda, notice, reminder, report…
	Purpose  string
	Priority int // storage.PriorityUrgent or storage.PriorityBulk
	// NotBefore holds the message back, e.g. until quiet hours end.
	NotBefore time.Time
}

// RawOf turns a typed request into one that can be queued.
func RawOf(req telegram.Request) telegram.Raw {
	return telegram.Raw{Name: req.Method(), Values: req.Params()}
}

// TextParts makes one sendMessage per part (HTML, as every text of the bot), with
// the keyboard, if any, on the last one.
func TextParts(chatID int64, parts []string, kb *telegram.InlineKeyboardMarkup) []telegram.Raw {
	out := make([]telegram.Raw, 0, len(parts))
	for i, p := range parts {
		m := telegram.SendMessage{ChatID: chatID, Text: p}
		if i == len(parts)-1 {
			m.Keyboard = kb
		}
		out = append(out, RawOf(m))
	}
	return out
}

// Split cuts text into parts of at most limit UTF-16 code units (Telegram's
// count), at a line break when there is one in the second half of the window, else
// at a space there, else at the last line break or space, else hard between two
// characters. The line break or space cut at is dropped; parts that would be only
// white space are left out. Split the raw text and then escape each part: escaping
// does not lengthen a text as Telegram counts it, since an entity such as &amp;
// counts as the character it stands for.
func Split(text string, limit int) []string {
	if limit <= 0 {
		limit = MaxText
	}
	var parts []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	for text != "" {
		end, units := 0, 0 // end: bytes of text within limit
		lastNL, lastSp := -1, -1
		halfNL, halfSp := -1, -1
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			n := utf16.RuneLen(r) // 2 for a character outside the BMP (emoji)
			if units+n > limit {
				break
			}
			units += n
			end = i + size
			if r == '\n' {
				lastNL = i
				if units > limit/2 {
					halfNL = i
				}
			} else if r == ' ' {
				lastSp = i
				if units > limit/2 {
					halfSp = i
				}
			}
			i += size
		}
		if end >= len(text) {
			add(text)
			break
		}
		// The window may end right at a break.
		switch text[end] {
		case '\n':
			lastNL, halfNL = end, end
		case ' ':
			lastSp, halfSp = end, end
		}
		cut := -1
		for _, c := range []int{halfNL, halfSp, lastNL, lastSp} {
			if c >= 0 {
				cut = c
				break
			}
		}
		if cut < 0 {
			if end == 0 { // a limit below one character: take one anyway
				_, end = utf8.DecodeRuneInString(text)
			}
			add(text[:end])
			text = text[end:]
			continue
		}
		add(text[:cut])
		text = text[cut+1:]
	}
	return parts
}
