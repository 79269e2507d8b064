package texts

import (
	"strings"
	"testing"
)

func TestSplitHTML(t *testing.T) {
	line := func(i int) string {
		return "<code>/lenh" + strings.Repeat("x", i%7) + "</code> – một dòng hướng dẫn"
	}
	var help strings.Builder
	for i := range 160 {
		if i%20 == 0 && i > 0 {
			help.WriteString("\n")
		}
		help.WriteString(line(i) + "\n")
	}
	block := "<b>" + strings.Repeat("dòng\n", 10) + "</b>"
	tests := []struct {
		name  string
		text  string
		limit int
		parts int
	}{
		{"short", "Xin chào <b>đồng chí</b>", 4096, 1},
		{"long help, cut at sections", help.String(), 4096, 2},
		{"tags not counted", strings.Repeat("<b>x</b>", 4096), 4096, 1},
		{"no cut inside a tag pair", block + "\n" + block, 60, 2},
	}
	for _, tt := range tests {
		parts := SplitHTML(tt.text, tt.limit)
		if len(parts) != tt.parts {
			t.Errorf("%s: %d parts, want %d", tt.name, len(parts), tt.parts)
		}
		var joined []string
		for _, p := range parts {
			if n := Len(Plain(p)); n > tt.limit {
				t.Errorf("%s: a part of %d units", tt.name, n)
			}
			if strings.Count(p, "<") != 2*strings.Count(p, "</") {
				t.Errorf("%s: a part with unpaired tags: %q", tt.name, p)
			}
			joined = append(joined, strings.Fields(Plain(p))...)
		}
		if want := strings.Fields(Plain(tt.text)); strings.Join(joined, " ") != strings.Join(want, " ") {
			t.Errorf("%s: the parts do not make the text", tt.name)
		}
	}
}
