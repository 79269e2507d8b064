package testenv_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/testenv"
)

// echoServer answers each line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line on c and reads the answer.
func roundTrip(c net.Conn, line string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

// TestProxyCutAndRestore: the proxy forwards; Cut ends the open connection and
// refuses new ones; Restore lets them through again, at the same address.
func TestProxyCutAndRestore(t *testing.T) {
	p := testenv.StartProxy(t, echoServer(t))
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	open := dial()
	if got, err := roundTrip(open, "before"); err != nil || got != "before\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}
	p.Cut()
	if _, err := roundTrip(open, "during"); err == nil {
		t.Error("a connection open at the cut still answers")
	}
	if _, err := roundTrip(dial(), "during"); err == nil {
		t.Error("a new connection answers while cut")
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a new connection while cut hangs instead of closing: %v", err)
	}
	if p.Cuts() == 0 {
		t.Error("Cuts() = 0 after a cut")
	}
	p.Restore()
	if got, err := roundTrip(dial(), "after"); err != nil || got != "after\n" {
		t.Errorf("after Restore: %q, %v", got, err)
	}
}
