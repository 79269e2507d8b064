package texts

import (
	"html"
	"slices"
	"strings"
)

// Span is a formatted stretch of a text of the bot, as Telegram reports it in a
// message's entities: its type, and its offset and length in UTF-16 code units
// of the text as shown.
type Span struct {
	Type           string
	Offset, Length int
}

// spanTypes are the entity types of the HTML tags the bot writes.
var spanTypes = map[string]string{
	"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "code": "code", "pre": "pre",
	"a": "text_link", "blockquote": "blockquote", "tg-spoiler": "spoiler", "span": "spoiler",
}

// Shown is a text of the bot as Telegram shows it: the plain text, without the
// white space around it that Telegram trims, and its formatted spans in order
// of their start. Comparing it with a message's text and entities tells an edit
// that would change nothing, which Telegram refuses ("message is not modified").
func Shown(s string) (string, []Span) {
	type open struct {
		tag    string
		offset int
	}
	var plain strings.Builder
	var stack []open
	var spans []Span
	n := 0 // UTF-16 length of plain so far
	add := func(raw string) {
		t := html.UnescapeString(raw)
		plain.WriteString(t)
		n += Len(t)
	}
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		add(s[:i])
		tag := s[i+1 : i+j]
		s = s[i+j+1:]
		if strings.HasPrefix(tag, "/") {
			name := strings.ToLower(strings.TrimSpace(tag[1:]))
			for k := len(stack) - 1; k >= 0; k-- {
				if stack[k].tag != name {
					continue
				}
				o := stack[k]
				stack = append(stack[:k], stack[k+1:]...)
				typ := spanTypes[name]
				// Telegram reports a code block as one pre entity.
				inPre := name == "code" && len(stack) > 0 && stack[len(stack)-1].tag == "pre"
				if typ != "" && !inPre && n > o.offset {
					spans = append(spans, Span{Type: typ, Offset: o.offset, Length: n - o.offset})
				}
				break
			}
			continue
		}
		name, _, _ := strings.Cut(tag, " ")
		stack = append(stack, open{tag: strings.ToLower(name), offset: n})
	}
	add(s)
	text := plain.String()
	lead := Len(text) - Len(strings.TrimLeftFunc(text, isSpace))
	text = strings.TrimFunc(text, isSpace)
	end := Len(text)
	out := spans[:0]
	for _, sp := range spans {
		sp.Offset -= lead
		if sp.Offset < 0 {
			sp.Length += sp.Offset
			sp.Offset = 0
		}
		sp.Length = min(sp.Length, end-sp.Offset)
		if sp.Length > 0 {
			out = append(out, sp)
		}
	}
	SortSpans(out)
	return text, out
}

func isSpace(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\r' }

// SortSpans orders spans by offset, the outer before the inner at one
// offset, as Telegram lists entities.
func SortSpans(sp []Span) {
	slices.SortStableFunc(sp, func(a, b Span) int {
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return b.Length - a.Length
	})
}

// IsSpanType reports whether an entity type is one the bot's HTML makes, not
// one Telegram finds by itself in the text (a command, a link, a mention).
func IsSpanType(t string) bool {
	for _, v := range spanTypes {
		if v == t {
			return true
		}
	}
	return false
}

// MaxMessage is the longest message text Telegram takes, in UTF-16 code units
// of the text as shown.
const MaxMessage = 4096

// SplitHTML cuts a text of the bot into messages of at most limit UTF-16 code
// units as shown, at line breaks outside any tag pair, so that each part is
// well-formed HTML on its own; a section break (an empty line) is preferred
// in the second half of a part. A part with no such break within the limit
// is left whole (Telegram will refuse it; no text of the bot is like that).
func SplitHTML(s string, limit int) []string {
	if Len(Plain(s)) <= limit {
		return []string{s}
	}
	// The places a part may end: before a line break at depth 0.
	type cut struct {
		at      int // byte offset of the "\n"
		section bool
	}
	var cuts []cut
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				break
			}
			tag := s[i+1 : i+j]
			switch {
			case strings.HasPrefix(tag, "/"):
				depth--
			case !strings.HasSuffix(tag, "/"):
				depth++
			}
			i += j
		case '\n':
			if depth == 0 {
				cuts = append(cuts, cut{i, i+1 < len(s) && s[i+1] == '\n'})
			}
		}
	}
	var parts []string
	start := 0
	for Len(Plain(s[start:])) > limit {
		best, bestSection := -1, -1
		for _, c := range cuts {
			if c.at <= start {
				continue
			}
			n := Len(Plain(s[start:c.at]))
			if n > limit {
				break
			}
			best = c.at
			if c.section && n > limit/2 {
				bestSection = c.at
			}
		}
		if bestSection > 0 {
			best = bestSection
		}
		if best < 0 {
			break
		}
		if p := strings.TrimSpace(s[start:best]); p != "" {
			parts = append(parts, p)
		}
		start = best + 1
		for start < len(s) && s[start] == '\n' {
			start++
		}
	}
	if p := strings.TrimSpace(s[start:]); p != "" {
		parts = append(parts, p)
	}
	return parts
}
