package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// entity is a MessageEntity; offsets and lengths are in UTF-16 code units.
type entity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	Language string `json:"language,omitempty"`
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

var htmlTags = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"tg-spoiler": "spoiler", "span": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
}

type openTag struct {
	name     string
	arg      string
	offset   int // UTF-16 offset in the result
	startPos int
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// decodeEntity decodes the character reference at text[i] (which is '&').
// It returns the decoded rune and the number of bytes consumed, or 0, 0.
func decodeEntity(text string, i int) (rune, int) {
	end := strings.IndexByte(text[i:], ';')
	if end < 2 || end > 12 {
		return 0, 0
	}
	name := text[i+1 : i+end]
	switch name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	}
	if num, ok := strings.CutPrefix(name, "#"); ok {
		base := 10
		if h, ok := strings.CutPrefix(num, "x"); ok {
			num, base = h, 16
		} else if h, ok := strings.CutPrefix(num, "X"); ok {
			num, base = h, 16
		}
		n, err := strconv.ParseUint(num, base, 32)
		if err != nil || num == "" || n == 0 || n > utf8.MaxRune || (n >= 0xd800 && n <= 0xdfff) {
			return 0, 0
		}
		return rune(n), end + 1
	}
	return 0, 0
}

func parseErr(format string, args ...any) *apiError {
	return badRequest("can't parse entities: %s", fmt.Sprintf(format, args...))
}

// parseHTML parses text in Telegram's HTML style, returning the visible text
// and its entities, or the 400 the real server answers.
func parseHTML(text string) (string, []entity, *apiError) {
	var out strings.Builder
	var entities []entity
	var stack []openTag
	off := 0
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		if c == '&' {
			r, size := decodeEntity(text, i)
			if size == 0 {
				return "", nil, parseErr("Unescaped \"&\" at byte offset %d: use \"&amp;\"", i)
			}
			out.WriteRune(r)
			off += utf16.RuneLen(r)
			i += size
			continue
		}
		if c != '<' {
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 {
				return "", nil, badRequest("text must be encoded in UTF-8")
			}
			out.WriteString(text[i : i+size])
			off += utf16.RuneLen(r)
			i += size
			continue
		}
		begin := i
		i++
		if i < n && text[i] == '/' {
			if len(stack) == 0 {
				return "", nil, parseErr("Unexpected end tag at byte offset %d", begin)
			}
			i++
			start := i
			for i < n && !isHTMLSpace(text[i]) && text[i] != '>' {
				i++
			}
			endName := strings.ToLower(text[start:i])
			for i < n && isHTMLSpace(text[i]) {
				i++
			}
			if i >= n || text[i] != '>' {
				return "", nil, parseErr("Unclosed end tag at byte offset %d", begin)
			}
			i++
			top := stack[len(stack)-1]
			if endName != "" && endName != top.name {
				return "", nil, parseErr("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, endName)
			}
			stack = stack[:len(stack)-1]
			if length := off - top.offset; length > 0 {
				e := entity{Type: htmlTags[top.name], Offset: top.offset, Length: length}
				switch top.name {
				case "a":
					url := top.arg
					if url == "" {
						url = out.String()[top.startPos:]
					}
					e.URL = url
				case "code":
					if top.arg != "" && len(stack) > 0 && stack[len(stack)-1].name == "pre" {
						stack[len(stack)-1].arg = top.arg
						continue
					}
				case "pre":
					e.Language = top.arg
				}
				entities = append(entities, e)
			}
			continue
		}
		start := i
		for i < n && !isHTMLSpace(text[i]) && text[i] != '>' {
			i++
		}
		if i >= n {
			return "", nil, parseErr("Unclosed start tag at byte offset %d", begin)
		}
		name := strings.ToLower(text[start:i])
		if _, ok := htmlTags[name]; !ok {
			return "", nil, parseErr("Unsupported start tag \"%s\" at byte offset %d", name, begin)
		}
		arg := ""
		for i < n && text[i] != '>' {
			for i < n && isHTMLSpace(text[i]) {
				i++
			}
			if i >= n || text[i] == '>' {
				break
			}
			attrStart := i
			for i < n && !isHTMLSpace(text[i]) && text[i] != '=' && text[i] != '>' {
				i++
			}
			attr := strings.ToLower(text[attrStart:i])
			if attr == "" {
				return "", nil, parseErr("Empty attribute name in the tag \"%s\" at byte offset %d", name, begin)
			}
			for i < n && isHTMLSpace(text[i]) {
				i++
			}
			if i >= n || text[i] != '=' {
				return "", nil, parseErr("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", name, begin)
			}
			i++
			for i < n && isHTMLSpace(text[i]) {
				i++
			}
			if i >= n {
				return "", nil, parseErr("Unclosed start tag \"%s\" at byte offset %d", name, begin)
			}
			var val strings.Builder
			if q := text[i]; q == '"' || q == '\'' {
				i++
				for i < n && text[i] != q {
					if text[i] == '&' {
						r, size := decodeEntity(text, i)
						if size == 0 {
							return "", nil, parseErr("Unescaped \"&\" at byte offset %d: use \"&amp;\"", i)
						}
						val.WriteRune(r)
						i += size
						continue
					}
					val.WriteByte(text[i])
					i++
				}
				if i >= n {
					return "", nil, parseErr("Unclosed start tag at byte offset %d", begin)
				}
				i++
			} else {
				tokStart := i
				for i < n && (isAlnum(text[i]) || text[i] == '.' || text[i] == '-') {
					i++
				}
				if i >= n || (!isHTMLSpace(text[i]) && text[i] != '>') {
					return "", nil, parseErr("Unexpected end of name token at byte offset %d", tokStart)
				}
				val.WriteString(strings.ToLower(text[tokStart:i]))
			}
			v := val.String()
			switch {
			case name == "a" && attr == "href":
				arg = v
			case name == "code" && attr == "class" && strings.HasPrefix(v, "language-"):
				arg = strings.TrimPrefix(v, "language-")
			case name == "span" && attr == "class" && strings.HasPrefix(v, "tg-"):
				arg = v
			case name == "blockquote" && attr == "expandable":
			}
		}
		if i >= n {
			return "", nil, parseErr("Unclosed start tag at byte offset %d", begin)
		}
		i++ // '>'
		if name == "span" && arg != "tg-spoiler" {
			return "", nil, parseErr("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
		}
		stack = append(stack, openTag{name: name, arg: arg, offset: off, startPos: out.Len()})
	}
	if len(stack) > 0 {
		return "", nil, parseErr("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	sort.SliceStable(entities, func(a, b int) bool {
		if entities[a].Offset != entities[b].Offset {
			return entities[a].Offset < entities[b].Offset
		}
		return entities[a].Length > entities[b].Length
	})
	return out.String(), entities, nil
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// formatText applies parse_mode to text and returns the visible text and entities.
func formatText(text, parseMode string) (string, []entity, *apiError) {
	switch strings.ToLower(parseMode) {
	case "":
		if !utf8.ValidString(text) {
			return "", nil, badRequest("text must be encoded in UTF-8")
		}
		return text, nil, nil
	case "html":
		return parseHTML(text)
	case "markdown", "markdownv2":
		// Accepted verbatim: no Markdown parser in this fake.
		return text, nil, nil
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}
}
