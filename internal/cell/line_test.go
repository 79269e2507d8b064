package cell

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

func TestLen(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want int
	}{
		{"latin", "Hall 3", 6},
		{"vietnamese, composed", "Nhà văn hóa", 11},
		{"vietnamese, letters and marks typed apart", norm.NFD.String("Nhà văn hóa"), 11},
		{"ệ typed as e and two marks", "e\u0323\u0302", 1},
		{"a flag", "🇻🇳", 1},
		{"an emoji with a skin tone", "👍🏽", 1},
		// 11 UTF-16 units: counts as three.
		{"a family emoji", "👨\u200d👩\u200d👧\u200d👦", 3},
		// 61 units: a letter under sixty marks is no single character.
		{"stacked marks", "a" + strings.Repeat("\u0301", 60), 16},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Len(tt.s); got != tt.want {
				t.Errorf("Len(%q) = %d, want %d", tt.s, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	hall := "Hội trường Đảng ủy phường Mỹ Phước, " // 36 characters, 47 bytes
	long := func(n int) string { return strings.Repeat("ệ", n) }
	tests := []struct {
		name    string
		s       string
		want    string
		wantLen int
		err     error
	}{
		{"a place", "Nhà văn hóa khu phố 3", "Nhà văn hóa khu phố 3", 21, nil},
		{"spaces and newlines made single", "  Hội   trường\nUBND \t", "Hội trường UBND", 15, nil},
		{"invisible characters removed", "\u202eHội\u200b trường\u202c", "Hội trường", 10, nil},
		{"kept composed", norm.NFD.String("Nhà văn hóa"), "Nhà văn hóa", 11, nil},
		{"200 vietnamese letters, 600 bytes", long(200), long(200), 200, nil},
		{"200 letters typed with marks apart", norm.NFD.String(long(200)), long(200), 200, nil},
		{"201 letters", long(201), long(201), 201, ErrTooLong},
		{"201 ascii", strings.Repeat("a", 201), strings.Repeat("a", 201), 201, ErrTooLong},
		{"a pasted paragraph", strings.Repeat(hall, 20), strings.TrimSpace(strings.Repeat(hall, 20)), 719, ErrTooLong},
		{"few letters, stacked marks", strings.Repeat("a"+strings.Repeat("\u0301", 40), 20), "", 220, ErrTooLong},
		{"nothing", "", "", 0, ErrUnreadable},
		{"spaces", " \t\n\u00a0\u3000", "", 0, ErrUnreadable},
		{"zero-width spaces", "\u200b\u200c\u200d\ufeff", "", 0, ErrUnreadable},
		{"bidirectional controls", "\u202e\u2066\u2069", "", 0, ErrUnreadable},
		{"marks alone", "\u0301\u0323", "", 0, ErrUnreadable},
		{"format characters", "\u00ad\u2060\u180e", "", 0, ErrUnreadable},
		{"hangul fillers", "\u3164\u3164\u115f\uffa0", "", 0, ErrUnreadable},
		{"blank braille", "\u2800\u2800", "", 0, ErrUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := Line(tt.s, MaxPlaceLen)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Line(%q) err = %v, want %v", tt.s, err, tt.err)
			}
			if n != tt.wantLen {
				t.Errorf("Line(%q) len = %d, want %d", tt.s, n, tt.wantLen)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.s, got, tt.want)
			}
			// What it keeps fits in a message many times over.
			if err == nil && len(utf16.Encode([]rune(got))) > 4*MaxPlaceLen {
				t.Errorf("Line(%q) keeps %d UTF-16 units", tt.s, len(utf16.Encode([]rune(got))))
			}
		})
	}
}
