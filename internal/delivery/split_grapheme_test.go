package delivery_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/rivo/uniseg"

	"github.com/cellbot/cellbot/internal/delivery"
)

// TestDeliverySplitKeepsGraphemes: a hard cut falls between grapheme
// clusters: a decomposed Vietnamese letter keeps its marks, a family emoji its
// joiners, a flag its two halves, a thumbs-up its skin tone.
func TestDeliverySplitKeepsGraphemes(t *testing.T) {
	clusters := []string{
		"e\u0302\u0300",          // ề typed with its marks apart
		"u\u031b\u0303",          // ữ likewise
		"👨\u200d👩\u200d👧\u200d👦", // family, 11 UTF-16 units
		"🇻🇳",                     // flag: two regional indicators
		"👍🏽",                     // thumbs-up with a skin tone
		"Đ",
	}
	var b strings.Builder
	for i := range 3000 {
		b.WriteString(clusters[i%len(clusters)])
	}
	text := b.String()
	var want []string
	g := uniseg.NewGraphemes(text)
	for g.Next() {
		want = append(want, g.Str())
	}
	for _, limit := range []int{7, 12, 100, 4096 - 200, 4096} {
		parts := delivery.Split(text, limit)
		var got []string
		for i, p := range parts {
			// Over the limit only a single cluster longer than the limit.
			if n := len(utf16.Encode([]rune(p))); n > limit && uniseg.GraphemeClusterCount(p) > 1 {
				t.Errorf("limit %d: part %d is %d units", limit, i, n)
			}
			pg := uniseg.NewGraphemes(p)
			for pg.Next() {
				got = append(got, pg.Str())
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: the parts' grapheme clusters differ from the text's (%d vs %d): a cluster was cut", limit, len(got), len(want))
		}
	}
}

// TestDeliverySplitCRLF: a Windows line break is one break, dropped whole.
func TestDeliverySplitCRLF(t *testing.T) {
	got := delivery.Split("dòng một\r\ndòng hai", 12)
	if !slices.Equal(got, []string{"dòng một", "dòng hai"}) {
		t.Errorf("Split = %q", got)
	}
}
