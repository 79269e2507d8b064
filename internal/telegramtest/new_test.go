package telegramtest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestNewOutsideTests: a server made by New reports what would fail a test as
// a *Failure through Try, and Shutdown closes it.
func TestNewOutsideTests(t *testing.T) {
	s := telegramtest.New()
	u := s.User("An")
	if err := telegramtest.Try(func() { u.Send("xin chào") }); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := s.Transcript(u.ID()); len(got) != 1 || got[0].FromBot || got[0].From != "An" || got[0].Text != "xin chào" {
		t.Errorf("Transcript = %+v", got)
	}
	err := telegramtest.Try(func() { u.Press("✅ Tham dự") })
	var fail *telegramtest.Failure
	if !errors.As(err, &fail) || !strings.Contains(fail.Msg, "no bot message with a button") {
		t.Errorf("Press without a button: %v", err)
	}
	changed := s.Changed()
	u.Send("lần nữa")
	select {
	case <-changed:
	default:
		t.Error("Changed was not closed by a message")
	}
	s.Shutdown()
	s.Shutdown()
}
