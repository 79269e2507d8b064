package texts

import (
	"reflect"
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
