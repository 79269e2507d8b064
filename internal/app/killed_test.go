package app_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
)

// TestReminderRoundKilledAtEachStep: three bot processes in webhook mode share
// one Redis; a meeting starts one minute after its reminder is due, and the
// process that reaches a step of the reminder round first is SIGKILLed there
// (the kill probe of runBot): just after it claimed the item, after it sent
// part of the fan-out, after the members' reminders are queued but before the
// group's counts, and before the item is acknowledged. A new process takes the
// dead one's place. Whatever the step, before the meeting starts every member
// is reminded, the group gets the counts once and the committee the list; only a message in flight at the kill may go twice.
// CELLBOT_KILL_ROUNDS (default 1) sets the rounds per step.
func TestReminderRoundKilledAtEachStep(t *testing.T) {
	if testing.Short() {
		t.Skip("three processes and a reminder round per kill")
	}
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("CELLBOT_KILL_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	e := newEnv(t, telegramtest.WithWaitTimeout(120*time.Second))
	e.useOwnRedis()
	dir := t.TempDir()
	e.vars[envRunBot], e.vars[envKillDir] = "1", dir
	rs := startReplicaSet(t, e, 3)
	const members = 20
	s := seedCell(t, e, names(members), nil)
	ctx := context.Background()
	const lead = time.Minute
	if err := e.store.SetLeads(ctx, s.cell.ID, []time.Duration{lead}); err != nil {
		t.Fatal(err)
	}
	c, err := e.store.Cell(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{
		scheduler.ProbeRemindClaimed,
		delivery.ProbeSent + "@5 remind:",
		scheduler.ProbeRemindMembers,
		scheduler.ProbeRemindQueued,
	}
	groupPosts := func() int {
		n := 0
		for _, m := range e.srv.Messages(s.group.ID()) {
			if strings.HasPrefix(m.Text, "📊") {
				n++
			}
		}
		return n
	}
	done := 0
	var slowest time.Duration
	for _, step := range steps {
		for r := range rounds {
			_ = os.Remove(filepath.Join(dir, "killed"))
			if err := os.WriteFile(filepath.Join(dir, "at"), fmt.Appendf(nil, "%d %s", done, step), 0o600); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			m, _, err := e.store.CreateMeeting(ctx, fmt.Sprintf("kill-%d", done), cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: now.Add(lead + 2*time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			items := scheduler.Items(c, cell.QuietHours{}, []time.Duration{lead}, m, now)
			due := m.Start.Add(-lead)
			if err := e.store.ScheduleDue(ctx, items...); err != nil {
				t.Fatal(err)
			}
			pid := waitKilled(t, dir, due.Add(lead))
			rs.replace(pid)
			done++
			e.srv.WaitUntil(func() bool {
				for _, u := range s.members {
					want := done
					if u == s.secretary {
						want = 2 * done // and the list of who has not answered
					}
					if count(u, "Nhắc lịch sinh hoạt chi bộ")+count(u, "chưa trả lời") < want {
						return false
					}
				}
				return groupPosts() >= done
			})
			took := time.Since(due)
			slowest = max(slowest, took)
			if time.Now().After(m.Start) {
				t.Errorf("%s, round %d: complete %v after the due time, after the meeting started", step, r, took)
			}
			t.Logf("%s, round %d: killed process %d; complete %v after the due time", step, r, pid, took.Round(time.Millisecond))
		}
	}
	e.srv.WaitIdle()
	// Nobody misses a reminder. A message a killed process had in flight when
	// it died (Telegram took it, its sent marker not yet written) goes again:
	// Telegram has no idempotency key. So a repeat is allowed, at most one per
	// delivery worker of the killed process, never a loss.
	const inFlight = 8
	repeats := 0
	for name, u := range s.members {
		want := done
		if u == s.secretary {
			want = 2 * done
		}
		n := count(u, "Nhắc lịch sinh hoạt chi bộ") + count(u, "chưa trả lời")
		if n < want {
			t.Errorf("%s got %d reminders and lists over %d rounds, want %d", name, n, done, want)
		}
		repeats += max(n-want, 0)
	}
	if repeats > inFlight*done {
		t.Errorf("%d repeats over %d kills: more than the %d messages a killed process has in flight", repeats, done, inFlight)
	}
	t.Logf("%d member reminders over %d rounds, %d repeated (in flight at a kill), none missing", done*members, done, repeats)
	if n := groupPosts(); n != done {
		t.Errorf("the group got %d counts posts over %d rounds, want %d", n, done, done)
	}
	t.Logf("%d rounds, the slowest complete %v after its due time", done, slowest.Round(time.Millisecond))
}

// waitKilled waits until the kill probe fired, and returns the killed pid.
func waitKilled(t *testing.T, dir string, deadline time.Time) int {
	t.Helper()
	for {
		b, err := os.ReadFile(filepath.Join(dir, "killed"))
		if err == nil && strings.HasSuffix(string(b), "\n") {
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			return pid
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no process reached the kill step by %v", deadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replicaSet is startReplicas' processes, with their addresses, so that a
// killed one can be replaced on its address (the proxy's backend).
type replicaSet struct {
	t     *testing.T
	e     *env
	addrs []string
	ps    []*process
}

func startReplicaSet(t *testing.T, e *env, n int) *replicaSet {
	t.Helper()
	rs := &replicaSet{t: t, e: e, addrs: make([]string, n), ps: make([]*process, n)}
	backends := make([]string, n)
	for i := range rs.addrs {
		rs.addrs[i] = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
		backends[i] = "http://" + rs.addrs[i]
	}
	lb := roundRobin(t, backends)
	e.vars["CELLBOT_WEBHOOK_URL"] = lb.URL + "/telegram/webhook"
	e.vars["CELLBOT_WEBHOOK_SECRET"] = "replicas_secret"
	for i := range rs.ps {
		rs.start(i)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range rs.ps {
				t.Logf("bot %d:\n%s", i, p.output())
			}
		}
	})
	for _, p := range rs.ps {
		waitOutput(t, p, "cellbot is running", 120*time.Second)
	}
	return rs
}

func (rs *replicaSet) start(i int) {
	rs.e.vars["CELLBOT_HTTP_ADDR"] = rs.addrs[i]
	rs.ps[i] = rs.e.startProcess()
}

// replace waits for the process pid to be gone and starts another on its
// address.
func (rs *replicaSet) replace(pid int) {
	rs.t.Helper()
	for i, p := range rs.ps {
		if p.cmd.Process.Pid != pid {
			continue
		}
		err := <-p.done
		p.done <- err
		rs.start(i)
		waitOutput(rs.t, rs.ps[i], "cellbot is running", 120*time.Second)
		return
	}
	rs.t.Fatalf("process %d is not one of the replicas", pid)
}
