package cell

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold reduces a name to the form it is matched by: accents removed (đ as d),
// lower case, single spaces. "Nguyễn  Văn Đức" and "nguyen van duc" fold alike.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.Map(func(r rune) rune {
		switch r {
		case 'đ', 'Đ':
			return 'd'
		}
		return unicode.ToLower(r)
	}, out)
	return strings.Join(strings.Fields(out), " ")
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
