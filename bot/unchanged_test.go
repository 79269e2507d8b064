package bot

import (
	"testing"

	"github.com/cellbot/cellbot/internal/telegram"
)

func TestUnchanged(t *testing.T) {
	kb := keyboard(row(cb("◀️", verbRollPage, 1, 2, 0), cb("2/3", verbRollPage, 1, 2, 1)))
	shown := &telegram.Message{
		Text: "Điểm danh: 3/7 có mặt\nĐồng chí Lê Thị Hoa & Co, /close",
		Entities: []telegram.MessageEntity{
			{Type: "bold", Offset: 0, Length: 9},
			{Type: "bot_command", Offset: 46, Length: 6}, // Telegram's own, not the bot's
		},
		ReplyMarkup: kb,
	}
	const same = "<b>Điểm danh</b>: 3/7 có mặt\nĐồng chí Lê Thị Hoa &amp; Co, /close"
	tests := []struct {
		name string
		text string
		kb   *telegram.InlineKeyboardMarkup
		want bool
	}{
		{"the same page again", same, kb, true},
		{"another count", "<b>Điểm danh</b>: 4/7 có mặt\nĐồng chí Lê Thị Hoa &amp; Co, /close", kb, false},
		{"the bold moved", "Điểm danh: <b>3/7</b> có mặt\nĐồng chí Lê Thị Hoa &amp; Co, /close", kb, false},
		{"another page's buttons", same, keyboard(row(cb("2/3", verbRollPage, 1, 2, 1))), false},
		{"the buttons taken off", same, nil, false},
	}
	for _, tt := range tests {
		if got := unchanged(shown, tt.text, tt.kb); got != tt.want {
			t.Errorf("%s: unchanged = %v, want %v", tt.name, got, tt.want)
		}
	}
}
