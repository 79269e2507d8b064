package server

import (
	"testing"
	"time"
)

// TestDefaultTimeouts: without settings the listener has the production
// timeouts, and each one given replaces its default alone.
func TestDefaultTimeouts(t *testing.T) {
	tests := []struct {
		name string
		give Timeouts
		want Timeouts
	}{
		{name: "none given", want: Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 45 * time.Second, Idle: time.Minute}},
		{name: "idle given", give: Timeouts{Idle: time.Second}, want: Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 45 * time.Second, Idle: time.Second}},
		{name: "all given", give: Timeouts{ReadHeader: 1, Read: 2, Write: 3, Idle: 4}, want: Timeouts{ReadHeader: 1, Read: 2, Write: 3, Idle: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Params{Addr: "127.0.0.1:0", Timeouts: tt.give})
			if err != nil {
				t.Fatal(err)
			}
			defer s.ln.Close()
			got := Timeouts{ReadHeader: s.srv.ReadHeaderTimeout, Read: s.srv.ReadTimeout, Write: s.srv.WriteTimeout, Idle: s.srv.IdleTimeout}
			if got != tt.want {
				t.Errorf("timeouts = %+v, want %+v", got, tt.want)
			}
		})
	}
}
