package checkin

import (
	"strconv"
	"testing"
	"time"
)

func TestAccepted(t *testing.T) {
	s := StepOf(time.Unix(3000, 0)) // step 100 shows from 3000 s to 3030 s
	tests := []struct {
		name string
		at   int64 // unix seconds
		want bool
	}{
		{"shown", 3000, true},
		{"not yet shown", 2999, false},
		{"replaced 59 s ago", 3030 + 59, true},
		{"replaced 60 s ago", 3030 + 60, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Accepted(s, time.Unix(tt.at, 0)); got != tt.want {
				t.Errorf("Accepted(%d, %d) = %v, want %v", s, tt.at, got, tt.want)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	sc := Secret{Key: NewKey(), CellID: 42, MeetingID: 7}
	p := sc.Payload(1234567)
	if len(p) > 64 {
		t.Errorf("payload %q over 64 characters", p)
	}
	tok, ok := ParsePayload(p)
	if !ok || tok.Step != 1234567 || tok.CellID != 42 || !sc.Verify(tok) {
		t.Fatalf("payload %q read back as %+v (%v)", p, tok, ok)
	}
	tests := []struct {
		name string
		sc   Secret
		tok  string
	}{
		{"another key", Secret{Key: NewKey(), CellID: 42, MeetingID: 7}, p},
		{"another meeting", Secret{Key: sc.Key, CellID: 42, MeetingID: 8}, p},
		{"another step", sc, PayloadPrefix + "16_" + strconv.FormatInt(1234566, 36) + "_" + p[len(p)-16:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, ok := ParsePayload(tt.tok)
			if !ok {
				t.Fatalf("%q does not parse", tt.tok)
			}
			if tt.sc.Verify(tok) {
				t.Errorf("%q verified", tt.tok)
			}
		})
	}
}
