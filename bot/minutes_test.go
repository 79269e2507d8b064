package bot

import (
	"errors"
	"slices"
	"testing"

	"github.com/cellbot/cellbot/internal/texts"
)

func TestCutQuoted(t *testing.T) {
	tests := []struct {
		args, rest, quoted string
		ok                 bool
	}{
		{`03/04/2026 14:00 chuyên đề "Học tập tư tưởng" at Nhà văn hóa`, `03/04/2026 14:00 chuyên đề   at Nhà văn hóa`, "Học tập tư tưởng", true},
		{`03/04/2026 14:00 topical “Chuyên đề quý II”`, `03/04/2026 14:00 topical  `, "Chuyên đề quý II", true},
		{`03/04/2026 14:00 at Nhà văn hóa`, `03/04/2026 14:00 at Nhà văn hóa`, "", false},
		{`03/04/2026 14:00 "unclosed`, `03/04/2026 14:00 "unclosed`, "", false},
	}
	for _, tt := range tests {
		rest, quoted, ok := cutQuoted(tt.args)
		if rest != tt.rest || quoted != tt.quoted || ok != tt.ok {
			t.Errorf("cutQuoted(%q) = %q, %q, %v; want %q, %q, %v", tt.args, rest, quoted, ok, tt.rest, tt.quoted, tt.ok)
		}
	}
}

func TestParseVote(t *testing.T) {
	tests := []struct {
		args    string
		figures []int
		matter  string
		err     texts.Key
	}{
		{"40 2 1 Nghị quyết quý II", []int{40, 2, 1}, "Nghị quyết quý II", ""},
		{"40 2 Nghị quyết quý II", []int{40, 2, 0}, "Nghị quyết quý II", ""},
		{"40 2", []int{40, 2, 0}, "", ""},
		{"40, 2, 1", []int{40, 2, 1}, "", ""},
		{"40 2 1 2026 kế hoạch", []int{40, 2, 1}, "2026 kế hoạch", ""},
		{"40 -2", nil, "", texts.VoteNegative},
		{"40", nil, "", texts.VoteUsage},
		{"", nil, "", texts.VoteUsage},
		{"nhiều ít", nil, "", texts.VoteUsage},
	}
	for _, tt := range tests {
		figures, matter, err := parseVote(tt.args)
		var ue *texts.Err
		switch {
		case tt.err != "" && (!errors.As(err, &ue) || ue.Key != tt.err):
			t.Errorf("parseVote(%q) err = %v, want %s", tt.args, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("parseVote(%q) err = %v", tt.args, err)
		case !slices.Equal(figures, tt.figures) || matter != tt.matter:
			t.Errorf("parseVote(%q) = %v, %q; want %v, %q", tt.args, figures, matter, tt.figures, tt.matter)
		}
	}
}
