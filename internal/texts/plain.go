package texts

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/rivo/uniseg"
)

// MaxAlert is the longest text of an answer to a button press (an alert, or
// the notice at the top of the chat), in UTF-16 code units as Telegram counts
// them.
const MaxAlert = 200

// Plain is a text of the bot, which is HTML, as plain text, for where Telegram
// shows no formatting: the answer to a button press. Tags are dropped and
// entities decoded, so user text in it, escaped as in any message (Escape),
// comes out as it was typed: "<b>Lê Thị Hoa &amp; Co</b>" is "Lê Thị Hoa & Co".
func Plain(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return html.UnescapeString(b.String())
}

// Len is the length of s in UTF-16 code units, as Telegram counts it.
func Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Cut shortens plain text s to at most max UTF-16 code units, ending it with
// "…" when it cuts. A letter keeps its marks and an emoji its joiners: the cut
// falls between grapheme clusters.
func Cut(s string, max int) string {
	if Len(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	n, end := 0, 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		c := Len(g.Str())
		if n+c > max-1 { // room for "…"
			break
		}
		n += c
		_, end = g.Positions()
	}
	return strings.TrimRightFunc(s[:end], unicode.IsSpace) + "…"
}
