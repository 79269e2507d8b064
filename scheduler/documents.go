package scheduler

import (
	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
)

// DocumentParts are the documents attached to a meeting (/agenda with a file),
// sent after its notice by Telegram's file id: nothing is uploaded again.
func DocumentParts(chatID int64, m cell.Meeting) []telegram.Raw {
	out := make([]telegram.Raw, 0, len(m.Documents))
	for _, d := range m.Documents {
		out = append(out, delivery.RawOf(telegram.SendDocument{ChatID: chatID, FileID: d.FileID}))
	}
	return out
}
