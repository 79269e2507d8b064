package app_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/cellbot/cellbot/internal/checkin"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

var checkinCodeRE = regexp.MustCompile(`Mã điểm danh: (\d{4})`)

// shownCheckin is what the check-in message shows now: its code and the link
// its QR encodes, read back from the image as a phone's camera would.
func shownCheckin(t *testing.T, e *env, m telegramtest.Message) (code, link string) {
	t.Helper()
	c := checkinCodeRE.FindStringSubmatch(m.Caption)
	if c == nil {
		t.Fatalf("no code in the check-in caption %q", m.Caption)
	}
	data, _, ok := e.srv.FileData(m.PhotoFileID)
	if !ok {
		t.Fatalf("no photo %q on the test server", m.PhotoFileID)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the QR is no PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 512 || b.Dy() < 512 {
		t.Errorf("QR image %dx%d, want at least 512 px", b.Dx(), b.Dy())
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true, gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("the QR does not decode: %v", err)
	}
	return c[1], res.GetText()
}

// checkinMessage is the secretary's check-in message as it is now.
func checkinMessage(t *testing.T, u *telegramtest.User, id int) telegramtest.Message {
	t.Helper()
	for _, m := range u.Messages() {
		if m.MessageID == id {
			return m
		}
	}
	t.Fatalf("no message %d", id)
	return telegramtest.Message{}
}

// TestCheckinRotatingQR: /checkin shows a QR and a code that change every 30
// seconds. One member scans the QR (its link opens the bot with /start ci_…),
// another types the code; a code replaced under 60 s ago still works, one
// replaced longer ago does not, nor does an old QR; a second scan is one
// presence; the summary tells how each presence was recorded.
func TestCheckinRotatingQR(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	scanner, typist, late, relayed, called := mc.members[mc.regular[0]], mc.members[mc.regular[1]], mc.members[mc.regular[2]], mc.members[mc.regular[3]], mc.regular[3]
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi")

	t0 := time.Date(2026, 12, 3, 13, 40, 5, 0, hcm)
	mc.clock.Set(t0)
	sec.Send("/checkin")
	shown := sec.WaitMessage("Mã điểm danh")
	if shown.PhotoFileID == "" {
		t.Fatalf("the check-in message has no QR: %+v", shown)
	}
	code0, link0 := shownCheckin(t, e, shown)
	prefix := "https://t.me/" + telegramtest.BotUsername + "?start=" + checkin.PayloadPrefix
	if !strings.HasPrefix(link0, prefix) {
		t.Fatalf("the QR encodes %q, want the bot's check-in link %s…", link0, prefix)
	}
	payload0 := strings.TrimPrefix(link0, "https://t.me/"+telegramtest.BotUsername+"?start=")

	// The scan: Telegram opens the bot, the member taps Start.
	scanner.Start(payload0)
	scanner.WaitMessage("Đã điểm danh")
	typist.Send(code0)
	typist.WaitMessage("Đã điểm danh")
	// Two check-ins from one account are one.
	scanner.Start(payload0)
	scanner.WaitMessage("đã điểm danh buổi Thứ Năm, 03/12/2026 14:00 rồi")

	// Within 35 s the message shows another code and another QR, in place.
	mc.clock.Set(t0.Add(35 * time.Second))
	var code1, link1 string
	e.srv.WaitUntil(func() bool {
		m := checkinMessage(t, sec, shown.MessageID)
		if m.Edits == 0 {
			return false
		}
		code1, link1 = shownCheckin(t, e, m)
		return link1 != link0
	})
	t.Logf("code %s → %s", code0, code1)
	// Replaced under 60 s ago: still accepted.
	late.Send("/checkin " + code0)
	late.WaitMessage("Đã điểm danh")

	// Replaced more than 60 s ago: refused, the code and the QR alike. The
	// codes accepted then are computed as the bot does, so that a chance
	// equal code (3 in 10,000) moves the test one step on instead of passing
	// the old code.
	st, err := e.store.CheckinState(context.Background(), mc.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	sc := checkin.Secret{Key: st.Key, CellID: mc.cell.ID, MeetingID: st.MeetingID}
	step0 := checkin.StepOf(t0)
	at := checkin.StepStart(step0 + 1).Add(checkin.Grace + time.Second)
	for slices.ContainsFunc(checkin.AcceptedSteps(at), func(s int64) bool { return sc.Code(s) == code0 }) {
		at = at.Add(checkin.Step)
	}
	mc.clock.Set(at)
	relayed.Send(code0)
	relayed.WaitMessage("Mã chưa đúng")
	relayed.Start(payload0)
	relayed.WaitMessage("Mã QR này đã hết hạn")

	// The one who came late is marked by the roll call.
	sec.Send("/attendance")
	sec.WaitMessage("Bấm tên để đổi")
	sec.Press("⬜ " + called)
	e.srv.WaitUntil(func() bool { return userHasButton(sec, "✅ "+called) })

	mc.clock.Set(time.Date(2026, 12, 3, 14, 5, 0, 0, hcm))
	sec.Send("/close")
	sum := sec.WaitMessage("Tổng kết buổi sinh hoạt")
	// The QR still held up in the room says check-in ended.
	e.srv.WaitUntil(func() bool {
		return strings.Contains(checkinMessage(t, sec, shown.MessageID).Caption, "điểm danh đã kết thúc")
	})
	want := fmt.Sprintf("Cách ghi nhận có mặt: quét QR 1 (%s); nhập mã 2 (%s, %s); chi ủy điểm danh 1 (%s)",
		mc.regular[0], mc.regular[1], mc.regular[2], called)
	if !strings.Contains(sum.Text, want) {
		t.Errorf("summary lacks %q:\n%s", want, sum.Text)
	}
	if !strings.Contains(sum.Text, "Có mặt: 4/5") {
		t.Errorf("summary does not count 4 of 5 present (one scan twice is one):\n%s", sum.Text)
	}
}

func userHasButton(u *telegramtest.User, label string) bool {
	for _, m := range u.Messages() {
		for _, r := range m.Buttons {
			for _, b := range r {
				if b.Text == label {
					return true
				}
			}
		}
	}
	return false
}

// TestCheckinEndsByItself: a check-in nobody closed ends 3 hours after the
// start: codes are refused, the message says it ended, and the committee is
// reminded to /close, once.
func TestCheckinEndsByItself(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	member := mc.members[mc.regular[0]]
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi")
	mc.clock.Set(time.Date(2026, 12, 3, 13, 50, 0, 0, hcm))
	sec.Send("/checkin")
	shown := sec.WaitMessage("Mã điểm danh")
	code, _ := shownCheckin(t, e, shown)

	mc.clock.Set(time.Date(2026, 12, 3, 17, 0, 1, 0, hcm))
	sec.WaitMessage("đã tự kết thúc")
	e.srv.WaitUntil(func() bool {
		return strings.Contains(checkinMessage(t, sec, shown.MessageID).Caption, "đã kết thúc")
	})
	member.Send(code)
	member.WaitMessage("không có buổi họp nào đang điểm danh")
	sec.Send("/checkin")
	sec.WaitMessage("Xin gõ /close để tổng kết")

	mc.clock.Set(time.Date(2026, 12, 3, 17, 30, 0, 0, hcm))
	sec.Send("/close")
	sec.WaitMessage("Tổng kết buổi sinh hoạt")
	if n := count(sec, "đã tự kết thúc"); n != 1 {
		t.Errorf("the committee was reminded %d times, want once", n)
	}
}
