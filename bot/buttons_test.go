package bot

import (
	"math"
	"slices"
	"testing"

	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/scheduler"
)

// Every verb with its largest arguments round-trips and fits in Telegram's 64
// bytes of callback data.
func TestButtonsRoundTripAndFit(t *testing.T) {
	const maxUser = 1<<52 - 1 // Telegram user ids fit in 52 bits
	tests := []struct {
		verb string
		args []int64
	}{
		{verbJoinPick, []int64{1 << 40, 1 << 40}},
		{verbJoinNew, []int64{1 << 40}},
		{verbJoinConfirm, []int64{1 << 40, maxUser}},
		{verbJoinReject, []int64{1 << 40, maxUser}},
		{verbJoinWithdraw, []int64{1 << 40, math.MaxInt64}},
		{verbPage, []int64{1 << 40, 999}},
		{verbCard, []int64{1 << 40, 1 << 40}},
		{verbSetPart, []int64{1 << 40, 1 << 40, 3}},
		{verbStanding, []int64{1 << 40, 1 << 40}},
		{verbSetStanding, []int64{1 << 40, 1 << 40, 1}},
		{verbRole, []int64{1 << 40, 1 << 40, 1}},
		{verbPick, []int64{1 << 40, 1 << 40}},
		{verbCorrect, []int64{1 << 40, 1 << 40, 999, 1}},
		{verbCorrectMember, []int64{1 << 40, 1 << 40, 1 << 40}},
		{verbCorrectSet, []int64{1 << 40, 1 << 40, 1 << 40, int64(len(correctChoices) - 1)}},
		{verbCorrectCard, []int64{1 << 40, 1 << 40}},
		{verbCellPick, []int64{1 << 40}},
		{verbJoinStanding, []int64{1 << 40, maxUser, math.MaxInt64, 1}},
		{verbJoinPart, []int64{1 << 40, maxUser, math.MaxInt64, 7}},
	}
	for _, tt := range tests {
		data := encodeButton(tt.verb, tt.args...)
		if len(data) > 64 {
			t.Errorf("%s: %q is %d bytes, over 64", tt.verb, data, len(data))
		}
		got, err := decodeButton(data)
		if err != nil || got.verb != tt.verb || !slices.Equal(got.args, tt.args) {
			t.Errorf("%s: decode(%q) = %+v, %v", tt.verb, data, got, err)
		}
	}
}

func TestButtonsRejectForeignData(t *testing.T) {
	for _, data := range []string{"", "rv:1", "2:jp:1", "1", "1:jp:zz!", "1:a:1:2:3:4:5"} {
		if _, err := decodeButton(data); err == nil {
			t.Errorf("decode(%q) accepted", data)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct{ text, cmd, args string }{
		{"/help", "help", ""},
		{"/Members@cellbot_test_bot 2", "members", "2"},
		{"/help@other_bot", "", ""},
		{"/agenda\n1. Báo cáo\n2. Thảo luận", "agenda", "1. Báo cáo\n2. Thảo luận"},
		{"hello", "", ""},
		{"/exempt  Lê Thị Hoa  ", "exempt", "Lê Thị Hoa"},
	}
	for _, tt := range tests {
		cmd, args := parseCommand(tt.text, "cellbot_test_bot")
		if cmd != tt.cmd || args != tt.args {
			t.Errorf("parseCommand(%q) = %q, %q; want %q, %q", tt.text, cmd, args, tt.cmd, tt.args)
		}
	}
}

// TestRSVPButtonsDecode: the scheduler writes RSVP buttons in the bot's codec.
func TestRSVPButtonsDecode(t *testing.T) {
	kb := scheduler.RSVPKeyboard(texts.VI, 123456789, 987654)
	for _, row := range kb.InlineKeyboard {
		for _, btn := range row {
			if len(btn.CallbackData) > 64 {
				t.Errorf("%q: %d bytes", btn.CallbackData, len(btn.CallbackData))
			}
			b, err := decodeButton(btn.CallbackData)
			if err != nil || b.verb != verbRSVP || b.arg(0) != 123456789 || b.arg(1) != 987654 || b.arg(2) < 1 || b.arg(2) > 3 {
				t.Errorf("%q decodes to %+v, %v", btn.CallbackData, b, err)
			}
		}
	}
}
