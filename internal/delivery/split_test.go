package delivery_test

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/cellbot/cellbot/internal/delivery"
)

func TestDeliverySplit(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{name: "fits", text: "một dòng", limit: 10, want: []string{"một dòng"}},
		{name: "empty", text: "", limit: 10, want: nil},
		{name: "at a line break", text: "dòng một\ndòng hai", limit: 12, want: []string{"dòng một", "dòng hai"}},
		{name: "last line break in the window", text: "a b\nc d\ne f", limit: 8, want: []string{"a b\nc d", "e f"}},
		{name: "space when the line break is too early", text: "ab\ncdef ghij klmn", limit: 12, want: []string{"ab\ncdef ghij", "klmn"}},
		{name: "hard when no break", text: "abcdefghij", limit: 4, want: []string{"abcd", "efgh", "ij"}},
		// Telegram counts UTF-16 units: an emoji outside the BMP is two, and
		// is never cut in half.
		{name: "emoji counts two", text: "😀😀😀", limit: 4, want: []string{"😀😀", "😀"}},
		{name: "emoji not cut", text: "a😀b", limit: 2, want: []string{"a", "😀", "b"}},
		{name: "vietnamese letters count one", text: "Nghị quyết", limit: 10, want: []string{"Nghị quyết"}},
		{name: "blank parts dropped", text: "abc\n\n\n\ndef", limit: 3, want: []string{"abc", "def"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := delivery.Split(tt.text, tt.limit)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Split(%q, %d) (-want +got):\n%s", tt.text, tt.limit, diff)
			}
		})
	}
}

// Whatever the text, parts fit the limit and, joined at the characters cut at,
// give the text back.
func TestDeliverySplitLong(t *testing.T) {
	var b strings.Builder
	for i := range 900 {
		b.WriteString("Đồng chí ")
		if i%7 == 0 {
			b.WriteString("😀")
		}
		if i%11 == 0 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
	}
	text := b.String()
	parts := delivery.Split(text, 1000)
	if len(parts) < 10 {
		t.Fatalf("%d parts", len(parts))
	}
	rest := text
	for i, p := range parts {
		if n := len(utf16.Encode([]rune(p))); n > 1000 {
			t.Errorf("part %d is %d units", i, n)
		}
		if !strings.HasPrefix(rest, p) {
			t.Fatalf("part %d is not the next piece of the text", i)
		}
		rest = strings.TrimLeft(rest[len(p):], " \n")
	}
	if rest != "" {
		t.Errorf("%d bytes left over", len(rest))
	}
}
