package bot

import (
	"slices"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
)

// unchanged reports whether editing m to text and kb would change nothing, an
// edit Telegram refuses ("message is not modified"): a second press of the
// answer already chosen, the page already shown.
func unchanged(m *telegram.Message, text string, kb *telegram.InlineKeyboardMarkup) bool {
	shown, spans := texts.Shown(text)
	if m.Text != shown || !sameKeyboard(m.ReplyMarkup, kb) {
		return false
	}
	var had []texts.Span
	for _, e := range m.Entities {
		if texts.IsSpanType(e.Type) {
			had = append(had, texts.Span{Type: e.Type, Offset: e.Offset, Length: e.Length})
		}
	}
	texts.SortSpans(had)
	return slices.Equal(had, spans)
}

func sameKeyboard(a, b *telegram.InlineKeyboardMarkup) bool {
	var ra, rb [][]telegram.InlineKeyboardButton
	if a != nil {
		ra = a.InlineKeyboard
	}
	if b != nil {
		rb = b.InlineKeyboard
	}
	return slices.EqualFunc(ra, rb, func(x, y []telegram.InlineKeyboardButton) bool { return slices.Equal(x, y) })
}
