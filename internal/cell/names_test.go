package cell

import (
	"slices"
	"testing"
)

func TestKeyKeepsMarks(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Nguyễn Văn An", "Nguyễn Văn Ân", false},
		{"Lê Văn Tư", "Lê Văn Từ", false},
		{"Nguyễn Văn An", "NGUYỄN  văn an ", true},
		{"Lê Văn Từ", "Le\u0302 Va\u0306n Tu\u031b\u0300", true}, // decomposed ("Unicode tổ hợp")
		{"Lê Văn Tư", "Lê\u200b Văn \u202eTư\u202c", true},       // zero-width and bidi controls
		{"Đỗ Thị Bình", "đỗ thị bình", true},
		{"Đỗ Thị Bình", "Do Thi Binh", false},
	}
	for _, tt := range tests {
		if got := Key(tt.a) == Key(tt.b); got != tt.same {
			t.Errorf("Key(%q) == Key(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
		}
		if Fold(tt.a) != Fold(tt.b) && tt.same {
			t.Errorf("Fold(%q) != Fold(%q) though the keys are equal", tt.a, tt.b)
		}
	}
}

func TestCleanAndReadable(t *testing.T) {
	if got := Clean(" \u200bChi\u00a0bộ  \u2066Khu phố 3\u2069\n"); got != "Chi bộ Khu phố 3" {
		t.Errorf("Clean = %q", got)
	}
	for _, s := range []string{"\u200b\u200c\u200d", "\u202e \u2066\u2069", " \u00a0\u200f"} {
		if Clean(s) != "" || Readable(s) {
			t.Errorf("%q: Clean %q, Readable %v; want nothing readable", s, Clean(s), Readable(s))
		}
	}
	// Kept by Clean (a name's identity does not change), but nothing to read.
	for _, s := range []string{"\u3164\u2800", "\u00ad\u2060", "\u0301"} {
		if Readable(s) {
			t.Errorf("%q is readable; want nothing readable", s)
		}
	}
	if !Readable("\u200bA") {
		t.Error("a letter after a zero-width space is not readable")
	}
}

func TestShortKeepsGraphemes(t *testing.T) {
	long := ""
	for range 60 {
		long += "Tư" // T + ư: two characters, one of them possibly decomposed
	}
	decomposed := "Tu\u031b"
	for len([]rune(decomposed)) < 400 {
		decomposed += "Tu\u031b"
	}
	for _, s := range []string{long, decomposed, "👨‍👩‍👧‍👦🇻🇳" + long} {
		got := Short(s, MaxEcho)
		if n := len([]rune(got)); n == 0 {
			t.Fatalf("Short(%q) is empty", s)
		}
		if got[len(got)-len("…"):] != "…" {
			t.Errorf("Short of a long text does not end with …: %q", got)
		}
		// Nothing cut inside a letter and its mark.
		body := got[:len(got)-len("…")]
		if last := []rune(body); last[len(last)-1] == 'u' && s == decomposed {
			t.Errorf("Short cut a letter from its mark: %q", got)
		}
	}
	if Short("Lan", MaxEcho) != "Lan" {
		t.Error("Short changed a short text")
	}
}

func TestMatchIdentityThenSearch(t *testing.T) {
	roster := []Member{
		{ID: 1, Name: "Nguyễn Văn An"},
		{ID: 2, Name: "Nguyễn Văn Ân"},
		{ID: 3, Name: "Lê Văn Tư"},
		{ID: 4, Name: "Lê Văn Từ"},
		{ID: 5, Name: "Trương Văn Lâm"},
		{ID: 6, Name: "Trương Thị Mai"},
	}
	tests := []struct {
		query string
		want  []int64
	}{
		{"Nguyễn Văn An", []int64{1}},
		{"Nguyễn Văn Ân", []int64{2}},
		{"nguyen van an", []int64{1, 2}}, // accentless: both, to pick
		{"Le Van Tu", []int64{3, 4}},
		{"Le\u0302 Va\u0306n Tu\u031b\u0300", []int64{4}}, // decomposed Từ
		{"Trương Vô Danh", nil},
		{"Trương", nil}, // a family name alone is nobody in particular
		{"truong lam", []int64{5}},
		{"Mai", []int64{6}},
	}
	for _, tt := range tests {
		var ids []int64
		for _, m := range Match(roster, tt.query) {
			ids = append(ids, m.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("Match(%q) = %v, want %v", tt.query, ids, tt.want)
		}
	}
}

// TestNearFindsTheNameNotItsNamesakes: someone joining is offered the entries
// that are their full name (accents, case, order or one slip aside), never the
// members who only share a given or family name with it.
func TestNearFindsTheNameNotItsNamesakes(t *testing.T) {
	roster := []Member{
		{ID: 1, Name: "Nguyễn Văn An"},
		{ID: 2, Name: "Nguyễn Văn Ân"},
		{ID: 3, Name: "Trần Văn An"},
		{ID: 4, Name: "Nguyễn Văn Anh"},
		{ID: 5, Name: "Lê Văn Từ"},
		{ID: 6, Name: "Nguyễn Thị Lan"},
		{ID: 7, Name: "Phạm Quang Trường"},
	}
	tests := []struct {
		query string
		want  []int64
	}{
		{"Nguyễn Văn An", []int64{1, 2}},                         // accents aside, both namesakes
		{"nguyen  van AN", []int64{1, 2}},                        // case and spaces
		{"Nguye\u0302\u0303n Va\u0306n A\u0302n", []int64{1, 2}}, // decomposed
		{"Le\u0302 Va\u0306n Tu\u031b\u0300", []int64{5}},
		{"Lan Nguyễn Thị", []int64{6}},    // given name first
		{"Ngyuen Van Anh", []int64{4}},    // two letters swapped in the family name
		{"Nguyen Van Anhh", nil},          // a slip in the given name is another name
		{"Pham Quang Truong", []int64{7}}, // accents
		{"Pham Quang Trong", nil},         // given name
		{"Phạm Quag Trường", []int64{7}},  // a letter missing in the middle name
		{"Nguyễn Vn An", nil},             // a slip in a short word
		{"Văn An", nil},                   // part of a name
		{"An", nil},                       // a given name
		{"Nguyễn", nil},                   // a family name
		{"Phạm Văn An", nil},              // another family name
		{"Trần Văn Ân", []int64{3}},       // accents aside
		{"", nil},
	}
	for _, tt := range tests {
		var got []int64
		for _, m := range Near(roster, tt.query) {
			got = append(got, m.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Near(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
}
