package texts

import (
	"reflect"
	"strings"
	"testing"
)

func TestShown(t *testing.T) {
	tests := []struct {
		name  string
		html  string
		plain string
		spans []Span
	}{
		{"plain", "Xin chào", "Xin chào", nil},
		{"bold name", "Đồng chí <b>Lê Thị Hoa &amp; Co</b> đã trả lời", "Đồng chí Lê Thị Hoa & Co đã trả lời", []Span{{"bold", 9, 15}}},
		{"nested, outer first", "<b>a <i>b</i></b>", "a b", []Span{{"bold", 0, 3}, {"italic", 2, 1}}},
		{"offsets in UTF-16", "😀 <b>x</b>", "😀 x", []Span{{"bold", 3, 1}}},
		{"trimmed around", "\n  <b>x</b> y \n", "x y", []Span{{"bold", 0, 1}}},
		{"a link", `xem <a href="https://t.me/b?start=a&amp;b">đây</a>`, "xem đây", []Span{{"text_link", 4, 3}}},
		{"a code block is one pre", `<pre><code class="language-go">x</code></pre>`, "x", []Span{{"pre", 0, 1}}},
		{"an empty tag makes nothing", "a<b></b>b", "ab", nil},
	}
	for _, tt := range tests {
		plain, spans := Shown(tt.html)
		if plain != tt.plain || !reflect.DeepEqual(spans, tt.spans) && (len(spans) != 0 || len(tt.spans) != 0) {
			t.Errorf("%s: Shown(%q) = %q %v, want %q %v", tt.name, tt.html, plain, spans, tt.plain, tt.spans)
		}
	}
}

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
