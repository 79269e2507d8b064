package cell

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold reduces a name to the form it is matched by: accents removed (đ as d),
// lower case, single spaces. "Nguyễn  Văn Đức" and "nguyen van duc" fold alike.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		default:
			r = unicode.ToLower(r)
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Match finds members by name: an exact folded match wins; otherwise every member
// whose folded name contains the query as whole words, in order.
func Match(members []Member, query string) []Member {
	q := Fold(query)
	if q == "" {
		return nil
	}
	var exact, partial []Member
	for _, m := range members {
		f := Fold(m.Name)
		switch {
		case f == q:
			exact = append(exact, m)
		case strings.HasSuffix(f, " "+q) || strings.HasPrefix(f, q+" ") || strings.Contains(f, " "+q+" "):
			partial = append(partial, m)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return partial
}
