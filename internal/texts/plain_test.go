package texts

import (
	"strings"
	"testing"
)

func TestPlain(t *testing.T) {
	name := `Lê Thị <b>Hoa</b> & "Co"`
	tests := []struct {
		name, in, want string
	}{
		{"no markup", "Đã cập nhật.", "Đã cập nhật."},
		{"tags dropped", "Tên <b>Hoa</b> đã <i>có</i> <code>1</code>", "Tên Hoa đã có 1"},
		{"a link's text kept", `<a href="https://t.me/x?start=1">Mở</a>`, "Mở"},
		{"entities decoded", "A &amp; B &lt;c&gt; &#34;d&#34; &quot;e&quot;", `A & B <c> "d" "e"`},
		{"an escaped name comes out as typed", T(VI, JoinNameTaken, Escape(name)),
			`Tên Lê Thị <b>Hoa</b> & "Co" đã gắn với một tài khoản Telegram khác. Xin liên hệ bí thư chi bộ.`},
		{"English", T(EN, JoinNameTaken, Escape(name)),
			`The name Lê Thị <b>Hoa</b> & "Co" is already linked to another Telegram account. Please contact the secretary.`},
		{"an entity is decoded once", "&amp;lt;", "&lt;"},
		{"a lone <", "a < b", "a < b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Plain(tt.in); got != tt.want {
				t.Errorf("Plain(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "Lê Thị Hoa", 10, "Lê Thị Hoa"},
		{"empty", "", 5, ""},
		{"cut with an ellipsis", "Lê Thị Hoa", 7, "Lê Thị…"},
		{"no space before the ellipsis", "Lê Thị Hoa", 8, "Lê Thị…"},
		{"emoji count two", "😀😀😀", 5, "😀😀…"},
		{"an emoji is not split", "😀😀😀", 4, "😀…"},
		{"a letter keeps its marks", "Le\u0302\u0301 Hoa", 5, "Le\u0302\u0301…"},
		{"a letter and its marks go together", "Le\u0302\u0301 Hoa", 4, "L…"},
		{"a family emoji stays whole", "👨‍👩‍👧 Lan", 6, "…"},
		{"room for the ellipsis only", "Hoa", 1, "…"},
		{"no room", "Hoa", 0, ""},
		{"200 emoji to an alert", strings.Repeat("😀", 200), MaxAlert, strings.Repeat("😀", 99) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Cut(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if Len(got) > tt.max {
				t.Errorf("Cut(%q, %d) is %d long", tt.in, tt.max, Len(got))
			}
		})
	}
}
