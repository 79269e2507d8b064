// Package texts owns every word cellbot says: one catalog per language (Vietnamese
// first, English), typed keys so that a misspelt key does not compile, the date
// format the bot shows, HTML escaping of user text, and plain text where Telegram
// shows none (the answer to a button press).
package texts

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// Languages.
const (
	VI = "vi"
	EN = "en"
)

// Key names one text; keys are namespaced by feature.
type Key string

// Lang picks the catalog for a language code such as Telegram's "en-GB"; anything
// that is not English is Vietnamese.
func Lang(code string) string {
	if strings.HasPrefix(strings.ToLower(code), "en") {
		return EN
	}
	return VI
}

// Supported reports whether lang has a catalog.
func Supported(lang string) bool { return lang == VI || lang == EN }

// T renders a text in a language. Arguments that come from users must be passed
// through Escape first: every text is HTML.
func T(lang string, key Key, args ...any) string {
	cat := vi
	if lang == EN {
		cat = en
	}
	s, ok := cat[key]
	if !ok {
		s, ok = vi[key]
	}
	if !ok {
		return string(key)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Escape makes user text safe inside an HTML message.
func Escape(s string) string { return html.EscapeString(s) }

var weekdaysVI = [...]string{"Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}

// DateTime shows a time with its weekday: "Thứ Năm, 03/04/2025 14:00", in t's
// location.
func DateTime(lang string, t time.Time) string {
	day := t.Weekday().String()
	if lang != EN {
		day = weekdaysVI[t.Weekday()]
	}
	return day + ", " + t.Format("02/01/2006 15:04")
}

// Date shows a day as dd/mm/yyyy, the same in both languages.
func Date(t time.Time) string { return t.Format("02/01/2006") }

// Count renders a count of something: the text of key holds the forms for one
// and for many, separated by "|" ("%d member|%d members"); a text without "|"
// (Vietnamese nouns do not change) serves every count. Count(EN, 1,
// CountMember) is "1 member", Count(EN, 74, CountMember) "74 members".
func Count(lang string, n int, key Key) string {
	s := T(lang, key)
	one, many, plural := strings.Cut(s, "|")
	switch {
	case !plural:
		return fmt.Sprintf(s, n)
	case n == 1:
		return fmt.Sprintf(one, n)
	}
	return fmt.Sprintf(many, n)
}

// Err is an error meant for the user: a key and its arguments, rendered in the
// user's language by whoever reports it.
type Err struct {
	Key  Key
	Args []any
}

// Error renders the error in Vietnamese, for logs.
func (e *Err) Error() string { return T(VI, e.Key, e.Args...) }

// Errorf returns a user error.
func Errorf(key Key, args ...any) error { return &Err{Key: key, Args: args} }
