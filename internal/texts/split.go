package texts

import "strings"

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
