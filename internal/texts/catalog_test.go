package texts

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

func TestCatalogsHaveTheSameKeysAndVerbs(t *testing.T) {
	for key, v := range vi {
		e, ok := en[key]
		if !ok {
			t.Errorf("%s: missing in en", key)
			continue
		}
		// A count's forms (one|many) each take the verbs of the other
		// language's forms.
		for _, vf := range forms(key, v) {
			for _, ef := range forms(key, e) {
				if a, b := verbRE.FindAllString(vf, -1), verbRE.FindAllString(ef, -1); !slices.Equal(a, b) {
					t.Errorf("%s: verbs differ: vi %v, en %v", key, a, b)
				}
			}
		}
	}
	for key := range en {
		if _, ok := vi[key]; !ok {
			t.Errorf("%s: missing in vi", key)
		}
	}
}

// forms splits a count's text into its forms; any other text is one form.
func forms(key Key, s string) []string {
	if strings.HasPrefix(string(key), "count.") {
		return strings.Split(s, "|")
	}
	return []string{s}
}

func TestCount(t *testing.T) {
	tests := []struct {
		lang string
		n    int
		want string
	}{
		{EN, 1, "1 member"},
		{EN, 0, "0 members"},
		{EN, 74, "74 members"},
		{VI, 1, "1 đồng chí"},
		{VI, 74, "74 đồng chí"},
	}
	for _, tt := range tests {
		if got := Count(tt.lang, tt.n, CountMember); got != tt.want {
			t.Errorf("Count(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	if got := Date(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)); got != "31/12/2026" {
		t.Errorf("Date = %q", got)
	}
}

// TestEnglishUsesPlainQuotes: the English texts use plain quotes, not the
// Vietnamese «guillemets».
var quotedRE = regexp.MustCompile(`«[^»]*»|“[^”]*”`)

func TestEnglishUsesPlainQuotes(t *testing.T) {
	for key, s := range en {
		if quotedRE.MatchString(s) {
			t.Errorf("%s: English text has typographic quotes: %q", key, s)
		}
	}
}

// TestOneVoice: the Vietnamese texts call the bot "Bot", never "tôi" (but for
// a button the member presses, "Tôi là ...", "Tôi không có trong danh sách
// này"), members "đảng viên", never
// "thành viên", and ask to press a bare command, not to type it.
func TestOneVoice(t *testing.T) {
	for key, s := range vi {
		low := strings.ToLower(s)
		if key != JoinMeButton && key != SelfNotListed && regexp.MustCompile(`\btôi\b`).MatchString(low) {
			t.Errorf("%s: says tôi: %q", key, s)
		}
		if strings.Contains(low, "thành viên") {
			t.Errorf("%s: says thành viên: %q", key, s)
		}
		if strings.Contains(low, "gõ /help") || strings.Contains(low, "gõ /cancel") || strings.Contains(low, "gõ /members") {
			t.Errorf("%s: asks to type a command that is pressed: %q", key, s)
		}
	}
}

func TestDateTime(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 4, 3, 14, 0, 0, 0, loc)
	tests := []struct{ lang, want string }{
		{VI, "Thứ Năm, 03/04/2025 14:00"},
		{EN, "Thursday, 03/04/2025 14:00"},
	}
	for _, tt := range tests {
		if got := DateTime(tt.lang, at); got != tt.want {
			t.Errorf("DateTime(%s) = %q, want %q", tt.lang, got, tt.want)
		}
	}
}

func TestLangAndEscape(t *testing.T) {
	for code, want := range map[string]string{"en": EN, "en-GB": EN, "vi": VI, "": VI, "fr": VI} {
		if got := Lang(code); got != want {
			t.Errorf("Lang(%q) = %q, want %q", code, got, want)
		}
	}
	if got := Escape(`<b>Lan & "Hoa"</b>`); got != "&lt;b&gt;Lan &amp; &#34;Hoa&#34;&lt;/b&gt;" {
		t.Errorf("Escape = %q", got)
	}
}

// TestEveryKeyHasText reads keys.go and checks that every Key constant has a
// Vietnamese and an English text: a key added without texts would show users the
// raw key.
func TestEveryKeyHasText(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "keys.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				key := Key(strings.Trim(lit.Value, `"`))
				n++
				if _, ok := vi[key]; !ok {
					t.Errorf("%s has no Vietnamese text", key)
				}
				if _, ok := en[key]; !ok {
					t.Errorf("%s has no English text", key)
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("found only %d keys in keys.go", n)
	}
}
