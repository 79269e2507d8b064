package delivery_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strconv"
	"testing"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
)

// TestEditsNotSentTwice: an edit identical to the last one sent for its
// message is not sent again (Telegram would refuse it as not modified),
// whichever way out it takes; another edit is, an edit Telegram refused for
// another reason may be tried again, and a new upload under the same caption
// is new content.
func TestEditsNotSentTwice(t *testing.T) {
	e := newTestEnv(t)
	s := e.sender(t, delivery.SenderParams{})
	u := members(e.srv, 1)[0]
	ctx := context.Background()
	var m telegram.Message
	if err := s.Direct().Do(ctx, telegram.SendMessage{ChatID: u.ID(), Text: "Buổi họp 14:00"}, &m); err != nil {
		t.Fatal(err)
	}
	id := strconv.Itoa(m.MessageID)
	edit := func(text string) telegram.Request {
		return telegram.EditMessageText{ChatID: u.ID(), MessageID: m.MessageID, Text: text}
	}
	photo := func(data uint8) telegram.Request {
		return telegram.Raw{Name: "editMessageMedia", Values: telegram.Params{"chat_id": strconv.FormatInt(u.ID(), 10), "message_id": id,
			"media": `{"type":"photo","media":"attach://qr","caption":"Mã 1234"}`}, Files: []telegram.RawFile{{Field: "qr", Name: "qr.png", Data: pngOf(data)}}}
	}
	steps := []struct {
		name   string
		req    telegram.Request
		caller telegram.Caller
		fail   bool // Telegram refuses it (a 400 that is not "not modified")
		sent   bool
	}{
		{"an edit", edit("Buổi họp 15:00"), s.Direct(), false, true},
		{"the same again", edit("Buổi họp 15:00"), s.Immediate(), false, false},
		{"another", edit("Buổi họp 16:00"), s.Direct(), false, true},
		{"refused", edit("Buổi họp 17:00"), s.Direct(), true, true},
		{"the refused one again", edit("Buổi họp 17:00"), s.Direct(), false, true},
		{"the same again after it", edit("Buổi họp 17:00"), s.Direct(), false, false},
	}
	for _, st := range steps {
		before := len(e.srv.Requests("editMessageText"))
		if st.fail {
			e.srv.FailNext("editMessageText", 400, "Bad Request: message can't be edited")
		}
		err := st.caller.Do(ctx, st.req, nil)
		if (err != nil) != st.fail {
			t.Errorf("%s: %v", st.name, err)
		}
		if sent := len(e.srv.Requests("editMessageText")) > before; sent != st.sent {
			t.Errorf("%s: sent %v, want %v", st.name, sent, st.sent)
		}
	}
	var p telegram.Message
	if err := s.Direct().Do(ctx, telegram.Raw{Name: "sendPhoto", Values: telegram.Params{"chat_id": strconv.FormatInt(u.ID(), 10), "photo": "attach://qr", "caption": "Mã 1234"},
		Files: []telegram.RawFile{{Field: "qr", Name: "qr.png", Data: pngOf(0)}}}, &p); err != nil {
		t.Fatal(err)
	}
	id = strconv.Itoa(p.MessageID)
	for _, st := range []struct {
		data uint8
		sent bool
	}{{1, true}, {1, false}, {2, true}} {
		before := len(e.srv.Requests("editMessageMedia"))
		if err := s.Direct().Do(ctx, photo(st.data), nil); err != nil {
			t.Errorf("photo %d: %v", st.data, err)
		}
		if sent := len(e.srv.Requests("editMessageMedia")) > before; sent != st.sent {
			t.Errorf("photo %d: sent %v, want %v", st.data, sent, st.sent)
		}
	}
}

// pngOf is a small PNG of one grey level.
func pngOf(level uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = level
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}
