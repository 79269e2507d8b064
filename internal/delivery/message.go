package delivery

import (
	"strings"
	"time"
	"unicode/utf16"

	"github.com/rivo/uniseg"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// Limits of a message's length, in UTF-16 code units as Telegram counts them
// (the Bot API's limits: 4,096 for a text, 1,024 for a caption).
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
	// A part may carry a small upload in telegram.Raw.Files (its bytes wait in
	// Redis with the message, and are dropped when it completes); large files
	// go directly, not through the queue.
	Parts []telegram.Raw
	// Purpose is for logs: broadcast, agenda, notice, reminder, report…
	Purpose  string
	Priority int // storage.PriorityUrgent or storage.PriorityBulk
	// NotBefore holds the message back, e.g. until quiet hours end.
	NotBefore time.Time
	// Result names where the id of the message the first part sends is
	// recorded (storage.QueueEntry.Result; Ref refers to it).
	Result string
	// Coalesce lets a newer edit of the same message replace this one while it
	// waits (storage.QueueEntry.Coalesce).
	Coalesce string
}

// RawOf turns a typed request into one that can be queued.
func RawOf(req telegram.Request) telegram.Raw {
	if raw, ok := req.(telegram.Raw); ok {
		return raw
	}
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
// grapheme clusters: a letter and its combining marks, a flag, or an emoji with
// its joiners and modifiers always stay in one part (github.com/rivo/uniseg). The
// line break or space cut at is dropped; parts that would be only white space are
// left out. Split the raw text and then escape each part: escaping does not
// lengthen a text as Telegram counts it, since an entity such as &amp; counts as
// the character it stands for.
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
		g := uniseg.NewGraphemes(text)
		for g.Next() {
			from, to := g.Positions()
			cluster := text[from:to]
			n := utf16Len(cluster)
			if units+n > limit {
				break
			}
			units += n
			end = to
			switch cluster {
			case "\n", "\r\n":
				lastNL = from
				if units > limit/2 {
					halfNL = from
				}
			case " ":
				lastSp = from
				if units > limit/2 {
					halfSp = from
				}
			}
		}
		if end >= len(text) {
			add(text)
			break
		}
		// The window may end right at a break.
		switch {
		case text[end] == '\n' || strings.HasPrefix(text[end:], "\r\n"):
			lastNL, halfNL = end, end
		case text[end] == ' ':
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
			if end == 0 { // a limit below one cluster: take one anyway
				g := uniseg.NewGraphemes(text)
				g.Next()
				_, end = g.Positions()
			}
			add(text[:end])
			text = text[end:]
			continue
		}
		add(text[:cut])
		skip := 1
		if strings.HasPrefix(text[cut:], "\r\n") {
			skip = 2
		}
		text = text[cut+skip:]
	}
	return parts
}

// utf16Len is the length of s in UTF-16 code units, as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
