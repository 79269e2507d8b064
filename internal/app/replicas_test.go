package app_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// waitOutput waits until a bot process has logged s: a condition with a
// deadline, for what only the process's log shows.
func waitOutput(t *testing.T, p *process, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not log %q within %v; output:\n%s", s, within, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill SIGKILLs a bot process and waits for it to be gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-p.done
	p.done <- err
}

// TestPollingTakeover (issue 16): two processes in long-polling mode share one
// Redis; only the lease holder polls (no 409 from Telegram while both run).
// The poller is SIGKILLed while updates are being handled and more keep coming;
// the other process polls within 10 s of the kill, and every update is handled
// once: Telegram gives the new poller the updates the dead one had not
// confirmed, and the handled-update records skip the ones it finished (the
// replies in flight at the kill excepted, as the end of the test says).
func TestPollingTakeover(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.useOwnRedis()
	p1 := e.startProcess()
	first := e.srv.User("Người Đầu")
	first.Start("")
	first.WaitMessage("Xin chào") // p1 alone: it polls
	p2 := e.startProcess()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("first bot:\n%s\nsecond bot:\n%s", p1.output(), p2.output())
		}
	})
	waitOutput(t, p2, "waiting for the poll lease", 30*time.Second)

	const n = 30
	users := make([]*telegramtest.User, n)
	for i := range users {
		users[i] = e.srv.User(fmt.Sprintf("Đảng Viên %02d", i))
	}
	answered := func(us []*telegramtest.User) int {
		k := 0
		for _, u := range us {
			if count(u, "Xin chào") > 0 {
				k++
			}
		}
		return k
	}
	for _, u := range users[:n/2] {
		u.Start("")
	}
	e.srv.WaitUntil(func() bool { return answered(users[:n/2]) >= n/4 })
	for _, r := range e.srv.Requests("getUpdates") {
		if r.Code == 409 {
			t.Errorf("getUpdates answered 409 while two processes ran: %s", r.Description)
		}
	}
	p1.kill(t)
	killed := time.Now()
	before := map[*telegramtest.User]bool{}
	for _, u := range users[:n/2] {
		before[u] = count(u, "Xin chào") > 0
	}
	t.Logf("killed the poller with %d of %d answered", answered(users[:n/2]), n/2)
	for _, u := range users[n/2:] {
		u.Start("")
	}
	e.srv.WaitUntil(func() bool { return answered(users) == n })
	e.srv.WaitIdle()

	var took time.Duration
	for _, r := range e.srv.Requests("getUpdates") {
		if r.At.After(killed) && r.Code == 200 {
			took = r.At.Sub(killed)
			break
		}
	}
	t.Logf("the second process polled %v after the kill", took.Round(time.Millisecond))
	if took <= 0 || took > 10*time.Second {
		t.Errorf("the second process took %v to poll after the kill, want within 10 s", took)
	}
	// An update whose handler had sent its reply when the kill came, but had
	// not yet recorded the update as handled, is handled again by the new
	// poller: Telegram has no idempotency key, so a reply in flight at a kill
	// may go twice (as a queued message in flight at a kill may). Only those:
	// an update answered after the kill, or sent after it, is answered once.
	repeated := 0
	for i, u := range append(users, first) {
		k := count(u, "Xin chào")
		switch {
		case k == 2 && before[u]:
			repeated++
		case k != 1:
			t.Errorf("user %d: /start answered %d times, want once (answered before the kill: %v)", i, k, before[u])
		}
	}
	t.Logf("%d replies in flight at the kill went twice", repeated)
	if !strings.Contains(p2.output(), "this process holds the poll lease") {
		t.Error("the second process did not log taking the poll lease")
	}
}
