// Package checkin owns the rotating proof of presence shown in the meeting
// room: a 4-digit code and a QR code of the bot's deep link, both replaced
// every Step and accepted for Grace after they were replaced.
//
// Nothing is stored per step: the code and the link's token are derived from a
// key the check-in keeps once (HMAC-SHA256 of the meeting and the step, as TOTP
// derives its codes from a counter), so that every replica computes the same
// ones from its clock without talking to the others.
package checkin

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image/png"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

const (
	// Step is how long one code and QR are shown before they are replaced.
	Step = 30 * time.Second
	// Grace is how long a code or QR is still accepted after it was replaced:
	// long enough for whoever was typing it, short enough that relaying it to
	// someone outside the room does not work for long.
	Grace = 60 * time.Second
	// KeySize is the length of a check-in's key.
	KeySize = 32
	// QRSize is the side of the QR image in pixels: scannable from a few
	// metres off a phone held up, or off a projector.
	QRSize = 512
	// PayloadPrefix starts the /start payload of a check-in link.
	PayloadPrefix = "ci_"
)

// NewKey returns a fresh random key for one check-in.
func NewKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24)
	return k
}

// StepOf is the step shown at t.
func StepOf(t time.Time) int64 {
	s := t.Unix()
	n := int64(Step / time.Second)
	if s < 0 {
		return (s - n + 1) / n
	}
	return s / n
}

// StepStart is when step s begins to be shown.
func StepStart(s int64) time.Time { return time.Unix(s*int64(Step/time.Second), 0) }

// Accepted reports whether what step s showed is still accepted at now: shown
// already, and replaced no longer than Grace ago.
func Accepted(s int64, now time.Time) bool {
	cur := StepOf(now)
	if s > cur {
		return false
	}
	replaced := StepStart(s + 1)
	return now.Sub(replaced) < Grace
}

// AcceptedSteps are the steps whose code is accepted at now, newest first.
func AcceptedSteps(now time.Time) []int64 {
	var out []int64
	for s := StepOf(now); Accepted(s, now); s-- {
		out = append(out, s)
	}
	return out
}

// Secret is what a check-in's codes are derived from.
type Secret struct {
	Key       []byte
	CellID    int64
	MeetingID int64
}

func (sc Secret) mac(step int64) []byte {
	h := hmac.New(sha256.New, sc.Key)
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(sc.MeetingID))
	binary.BigEndian.PutUint64(b[8:], uint64(step))
	h.Write(b[:])
	return h.Sum(nil)
}

// Code is the 4-digit code of step s.
func (sc Secret) Code(s int64) string {
	m := sc.mac(s)
	return fmt.Sprintf("%04d", binary.BigEndian.Uint32(m[:4])%10000)
}

// Payload is the /start payload of step s's link: "ci_", the cell and the
// step in base 36, and 64 bits of the step's HMAC (other bits than the
// code's), within the 64 characters of A-Z a-z 0-9 _ - a payload may have.
func (sc Secret) Payload(s int64) string {
	m := sc.mac(s)
	return PayloadPrefix + strconv.FormatInt(sc.CellID, 36) + "_" + strconv.FormatInt(s, 36) + "_" + hex.EncodeToString(m[4:12])
}

// Token is a /start payload read back: the cell it names, the step, and the
// HMAC bits to check.
type Token struct {
	CellID int64
	Step   int64
	mac    string
}

// ParsePayload reads a check-in link's payload; ok is false for anything else.
func ParsePayload(payload string) (Token, bool) {
	rest, ok := strings.CutPrefix(payload, PayloadPrefix)
	if !ok {
		return Token{}, false
	}
	f := strings.Split(rest, "_")
	if len(f) != 3 || len(f[2]) != 16 {
		return Token{}, false
	}
	cellID, err1 := strconv.ParseInt(f[0], 36, 64)
	step, err2 := strconv.ParseInt(f[1], 36, 64)
	if err1 != nil || err2 != nil {
		return Token{}, false
	}
	return Token{CellID: cellID, Step: step, mac: strings.ToLower(f[2])}, true
}

// Verify reports whether t was made with this secret (its step's acceptance
// is Accepted's to judge).
func (sc Secret) Verify(t Token) bool {
	want, err := hex.DecodeString(t.mac)
	if err != nil || t.CellID != sc.CellID {
		return false
	}
	return hmac.Equal(want, sc.mac(t.Step)[4:12])
}

// Link is the deep link that opens the bot with payload.
func Link(botUsername, payload string) string {
	return "https://t.me/" + botUsername + "?start=" + payload
}

// QR renders content as a PNG QR code of QRSize pixels, with the highest error
// correction (30% of the symbol may be unreadable: glare on a screen, a thumb).
func QR(content string) ([]byte, error) {
	q, err := qrcode.New(content, qrcode.Highest)
	if err != nil {
		return nil, fmt.Errorf("checkin: qr: %w", err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, q.Image(QRSize)); err != nil {
		return nil, fmt.Errorf("checkin: qr png: %w", err)
	}
	return buf.Bytes(), nil
}
