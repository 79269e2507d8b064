package cell

import (
	"errors"
	"unicode/utf16"

	"github.com/rivo/uniseg"
)

// MaxPlaceLen is the longest meeting place, meeting title or guest's title the
// bot takes, in characters as Len counts them. A place goes into every
// member's notice and reminders: Telegram refuses a message over 4,096
// characters whole, so a longer one would fail for every member at once.
const MaxPlaceLen = 200

// Errors of Line.
var (
	ErrUnreadable = errors.New("cell: nothing readable")
	ErrTooLong    = errors.New("cell: text too long")
)

// clusterUnits is how many UTF-16 code units, Telegram's measure of a message,
// one character may take and still count as one: a flag or an emoji with a skin
// tone takes four, a Vietnamese letter one (in NFC) to three (letter and marks
// typed apart).
const clusterUnits = 4

// Len counts text as a reader does, one per character on the screen: a
// grapheme cluster, so a letter with its accents is one however it was typed,
// and so is an emoji with its joiners. Bytes would count a Vietnamese letter
// two or three times. A cluster over clusterUnits UTF-16 code units counts one
// for every clusterUnits or part, so that a letter stacked with dozens of
// marks cannot pass for one character and still overflow a message: a text of
// Len n takes at most 4n units.
func Len(s string) int {
	n := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		units := 0
		for _, r := range g.Runes() {
			units += utf16.RuneLen(r)
		}
		n += (units + clusterUnits - 1) / clusterUnits
	}
	return n
}

// Line is a line of text the committee types for members' messages and the
// minutes (a meeting's place, a guest's name or title) as it is kept: Clean
// (NFC, without invisible characters, single spaces, trimmed), and at most max
// characters as Len counts them. It returns the text and its Len. The error is
// ErrUnreadable when nothing readable is left (nothing, spaces, invisible
// characters or marks without a letter), ErrTooLong when it is over max.
func Line(s string, max int) (string, int, error) {
	c := Clean(s)
	if !Readable(c) {
		return "", 0, ErrUnreadable
	}
	n := Len(c)
	if n > max {
		return c, n, ErrTooLong
	}
	return c, n, nil
}
