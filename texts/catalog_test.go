package texts

import (
	"regexp"
	"slices"
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
		if a, b := verbRE.FindAllString(v, -1), verbRE.FindAllString(e, -1); !slices.Equal(a, b) {
			t.Errorf("%s: verbs differ: vi %v, en %v", key, a, b)
		}
	}
	for key := range en {
		if _, ok := vi[key]; !ok {
			t.Errorf("%s: missing in vi", key)
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
