package sandbox

import (
	"html"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// renderHTML renders a message's visible text with its entities as the HTML a
// Telegram client would show: the entities of Telegram's HTML subset become
// tags, and everything else is escaped. The text is what the test server
// parsed, so the bot's markup never reaches the page as such.
func renderHTML(text string, ents []telegramtest.Entity) string {
	type open struct {
		e   telegramtest.Entity
		end int
	}
	sorted := slices.Clone(ents)
	slices.SortStableFunc(sorted, func(a, b telegramtest.Entity) int {
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return b.Length - a.Length
	})
	var (
		b     strings.Builder
		stack []open
		next  int
		pos   int // in UTF-16 code units
	)
	closeTo := func(pos int) {
		for len(stack) > 0 && stack[len(stack)-1].end <= pos {
			b.WriteString(closeTag(stack[len(stack)-1].e))
			stack = stack[:len(stack)-1]
		}
	}
	for _, r := range text {
		closeTo(pos)
		for next < len(sorted) && sorted[next].Offset <= pos {
			e := sorted[next]
			next++
			if e.Length <= 0 || openTag(e) == "" {
				continue
			}
			b.WriteString(openTag(e))
			stack = append(stack, open{e, e.Offset + e.Length})
		}
		b.WriteString(html.EscapeString(string(r)))
		pos += utf16.RuneLen(r)
	}
	for len(stack) > 0 {
		b.WriteString(closeTag(stack[len(stack)-1].e))
		stack = stack[:len(stack)-1]
	}
	return b.String()
}

var tags = map[string]string{
	"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s",
	"code": "code", "pre": "pre", "blockquote": "blockquote", "expandable_blockquote": "blockquote",
	"spoiler": "span", "text_link": "a", "url": "span", "mention": "span",
}

func openTag(e telegramtest.Entity) string {
	t := tags[e.Type]
	switch e.Type {
	case "":
		return ""
	case "spoiler":
		return `<span class="spoiler">`
	case "text_link":
		if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tg") {
			return `<a>`
		}
		return `<a href="` + html.EscapeString(e.URL) + `" target="_blank" rel="noopener noreferrer">`
	}
	if t == "" {
		return "<span>"
	}
	if t == "span" {
		return `<span class="` + html.EscapeString(e.Type) + `">`
	}
	return "<" + t + ">"
}

func closeTag(e telegramtest.Entity) string {
	t := tags[e.Type]
	switch {
	case e.Type == "text_link":
		return "</a>"
	case t == "" || t == "span":
		return "</span>"
	}
	return "</" + t + ">"
}
