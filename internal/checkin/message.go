package checkin

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
)

// qrField is the multipart field the QR image travels in.
const qrField = "qr"

// ResultName is the delivery queue's name for the id of the check-in message
// shown in a chat: the first step's sendPhoto records it, each later step's
// edit refers to it, and a newer edit replaces one still waiting under it.
func ResultName(cellID, meetingID, chatID int64) string {
	return "checkin:" + strconv.FormatInt(cellID, 10) + ":" + strconv.FormatInt(meetingID, 10) + ":" + strconv.FormatInt(chatID, 10)
}

// Caption is the check-in message's caption in lang: the meeting (its start in
// the cell's zone) and the step's code.
func Caption(lang string, start time.Time, code string) string {
	return texts.T(lang, texts.CheckinShow, texts.DateTime(lang, start), code)
}

// Frame is what one step shows: the code, and the QR of the link.
type Frame struct {
	Step int64
	Code string
	Link string
	PNG  []byte
}

// Frame renders step s for a bot.
func (sc Secret) Frame(botUsername string, s int64) (Frame, error) {
	link := Link(botUsername, sc.Payload(s))
	png, err := QR(link)
	if err != nil {
		return Frame{}, err
	}
	return Frame{Step: s, Code: sc.Code(s), Link: link, PNG: png}, nil
}

// SendPhoto is the request that shows a frame in a chat for the first time.
func SendPhoto(chatID int64, f Frame, caption string) telegram.Raw {
	return telegram.Raw{
		Name: "sendPhoto",
		Values: telegram.Params{"chat_id": strconv.FormatInt(chatID, 10), "photo": "attach://" + qrField,
			"caption": caption, "parse_mode": telegram.ParseHTML},
		Files: []telegram.RawFile{{Field: qrField, Name: "checkin.png", Data: f.PNG}},
	}
}

// EditPhoto is the request that replaces the photo and caption of the message
// messageID (a number, or a delivery reference) with a frame.
func EditPhoto(chatID int64, messageID string, f Frame, caption string) telegram.Raw {
	media, _ := json.Marshal(map[string]string{"type": "photo", "media": "attach://" + qrField,
		"caption": caption, "parse_mode": telegram.ParseHTML})
	return telegram.Raw{
		Name:   "editMessageMedia",
		Values: telegram.Params{"chat_id": strconv.FormatInt(chatID, 10), "message_id": messageID, "media": string(media)},
		Files:  []telegram.RawFile{{Field: qrField, Name: "checkin.png", Data: f.PNG}},
	}
}

// EditCaption is the request that replaces the caption of the message
// messageID (the check-in ended: its QR and code no longer work).
func EditCaption(chatID int64, messageID, caption string) telegram.Raw {
	return telegram.Raw{
		Name: "editMessageCaption",
		Values: telegram.Params{"chat_id": strconv.FormatInt(chatID, 10), "message_id": messageID,
			"caption": caption, "parse_mode": telegram.ParseHTML},
	}
}
