package cell

import (
	"slices"
	"strings"
	"unicode"

	"github.com/rivo/uniseg"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// A name has two forms. Its identity (Key) tells people apart: NFC, case-folded,
// spaces collapsed, every mark kept, so "Nguyễn Văn An" and "Nguyễn Văn Ân", or
// "Lê Văn Tư" and "Lê Văn Từ", are two people. Its search form (Fold) drops the
// marks, so that a query typed without accents finds both, and the bot asks
// which one is meant.

// invisible reports the zero-width and bidirectional control characters that
// are removed from names and cell names: U+200B–U+200F, U+202A–U+202E,
// U+2066–U+2069, and the byte order mark U+FEFF.
func invisible(r rune) bool {
	return (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) ||
		(r >= 0x2066 && r <= 0x2069) || r == 0xFEFF
}

// NFC is user text as the bot keeps it: in Unicode's composed form, so that a
// name typed with a keyboard that sends letters and marks apart ("Unicode tổ
// hợp") matches the same name typed precomposed.
func NFC(s string) string { return norm.NFC.String(s) }

// StripInvisible removes zero-width and bidirectional control characters.
func StripInvisible(s string) string {
	if !strings.ContainsFunc(s, invisible) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, s)
}

// Clean is a name or cell name as it is kept and shown: NFC, without invisible
// characters, single spaces, trimmed. "" when nothing readable is left.
func Clean(s string) string {
	return strings.Join(strings.Fields(StripInvisible(NFC(s))), " ")
}

// Readable reports whether text has something to read once invisible characters
// and spaces are taken away: a letter, digit, sign or emoji. Marks without a
// letter, format characters (a soft hyphen, a word joiner) and the letters
// that show as blanks (the Hangul fillers, the blank Braille pattern, used to
// make a name look empty) are not.
func Readable(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return !invisible(r) && !unicode.IsSpace(r) && !unicode.IsControl(r) &&
			!unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) && !looksBlank(r)
	})
}

// looksBlank reports the characters that are letters or symbols to Unicode but show
// as nothing: U+115F, U+1160, U+3164 and U+FFA0 (Hangul fillers) and U+2800.
func looksBlank(r rune) bool {
	return r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0 || r == 0x2800
}

var folder = cases.Fold()

// Key is a name's identity: Clean, case-folded, in NFC. Two names with the same
// key are the same person's; marks count.
func Key(s string) string {
	return norm.NFC.String(folder.String(Clean(s)))
}

// Fold reduces a name to the form it is searched by: accents removed (đ as d),
// lower case, single spaces. "Nguyễn  Văn Đức" and "nguyen van duc" fold alike.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(StripInvisible(s)) {
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

// Match finds members by name. The first of these that finds anyone wins: the
// same identity (marks count); the same name without accents; then every member
// whose name holds the query's words, whole, in order, with the query's last
// word being the name's last (the given name, by which Vietnamese address
// people). So "Văn An", "Nguyễn An" and "an" find Nguyễn Văn An, but "Nguyễn" or
// "Trương" alone, a family name, finds nobody in particular.
func Match(members []Member, query string) []Member {
	key, q := Key(query), Fold(query)
	if q == "" {
		return nil
	}
	qw := strings.Fields(q)
	var same, exact, partial []Member
	for _, m := range members {
		f := Fold(m.Name)
		switch {
		case Key(m.Name) == key:
			same = append(same, m)
		case f == q:
			exact = append(exact, m)
		case wordsMatch(strings.Fields(f), qw):
			partial = append(partial, m)
		}
	}
	switch {
	case len(same) > 0:
		return same
	case len(exact) > 0:
		return exact
	}
	return partial
}

// wordsMatch: q is a subsequence of name's words and ends with name's last word.
func wordsMatch(name, q []string) bool {
	if len(q) == 0 || len(name) == 0 || len(q) > len(name) || q[len(q)-1] != name[len(name)-1] {
		return false
	}
	i := 0
	for _, w := range name {
		if i < len(q) && w == q[i] {
			i++
		}
	}
	return i == len(q)
}

// Near finds the members someone joining may be, by the full name they typed:
// the same name once accents, case and spacing are set aside ("nguyen van an"
// is Nguyễn Văn An and Nguyễn Văn Ân); the same words in another order (a
// Telegram name, given name first); or a slip of one letter (a letter missing,
// added, changed, or two swapped) in one word of at least four letters that is
// not the given name ("Ngyuen Van An"). A short word or the given name slips
// into another name ("An", "Anh", "Lan"), so a slip there finds nobody. Unlike
// Match, a name that shares only some words with a member's is not near: the
// roster is not shown to whoever holds the join link.
func Near(members []Member, query string) []Member {
	q := strings.Fields(Fold(query))
	if len(q) == 0 {
		return nil
	}
	var out []Member
	for _, m := range members {
		if nearWords(strings.Fields(Fold(m.Name)), q) {
			out = append(out, m)
		}
	}
	return out
}

// nearWords: name and q are the same words, in order but for one slip, or in
// another order.
func nearWords(name, q []string) bool {
	if len(name) != len(q) {
		return false
	}
	slips := 0
	for i := range name {
		if name[i] == q[i] {
			continue
		}
		slips++
		if slips > 1 || i == len(name)-1 || !oneSlip(name[i], q[i]) {
			slips = 2
			break
		}
	}
	if slips <= 1 {
		return true
	}
	a, b := slices.Clone(name), slices.Clone(q)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// oneSlip reports whether two different words of at least four letters are one
// edit apart: a letter inserted, removed or changed, or two neighbours swapped.
func oneSlip(a, b string) bool {
	x, y := []rune(a), []rune(b)
	if min(len(x), len(y)) < 4 {
		return false
	}
	if len(x) > len(y) {
		x, y = y, x
	}
	switch len(y) - len(x) {
	case 0:
		var diff []int
		for i := range x {
			if x[i] != y[i] {
				diff = append(diff, i)
			}
		}
		switch {
		case len(diff) == 1:
			return true
		case len(diff) == 2 && diff[1] == diff[0]+1:
			return x[diff[0]] == y[diff[1]] && x[diff[1]] == y[diff[0]]
		}
		return false
	case 1:
		i := 0
		for i < len(x) && x[i] == y[i] {
			i++
		}
		return slices.Equal(x[i:], y[i+1:])
	}
	return false
}

// MaxEcho is the most characters of a user's text the bot repeats in an answer.
const MaxEcho = 100

// Short cuts text to at most n user-perceived characters (grapheme clusters, so
// a letter keeps its marks and an emoji its joiners), with "…" when it was cut.
func Short(s string, n int) string {
	if uniseg.GraphemeClusterCount(s) <= n {
		return s
	}
	var b strings.Builder
	g := uniseg.NewGraphemes(s)
	for i := 0; i < n-1 && g.Next(); i++ {
		b.WriteString(g.Str())
	}
	return b.String() + "…"
}
