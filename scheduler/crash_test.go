package scheduler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// outbox is a Bot API that records every message sent, by chat, for all the
// replicas of one round.
type outbox struct {
	mu   sync.Mutex
	seq  int
	sent map[int64][]string
}

func (o *outbox) count(chat int64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent[chat])
}

// replica is one process of the bot, reduced to what a reminder round uses: a
// scheduler and a delivery sender on a Redis connection of their own. kill
// stops it as SIGKILL would: from that moment nothing it does reaches Redis or
// Telegram, and its goroutines are left where they are.
type replica struct {
	rdb    *redis.Client
	reg    *prometheus.Registry
	box    *outbox
	dead   atomic.Bool
	frozen chan struct{} // closed when the test ends
	// refuse, when set, is the Bot API's error for a message to a chat.
	refuse func(chat int64) error
}

// kill marks the replica dead: a Redis command it starts from now on fails,
// and one already on the wire completes with its reply, as its counterpart to
// Telegram (Do) does. A SIGKILL landing between a command's effect and the
// next instruction loses that instruction's in-memory effect (a counter's
// increment) with the whole process; the counters read here are those of a
// scrape just before the kill, so they follow the replies the process had.
func (r *replica) kill() {
	r.dead.Store(true)
}

var errKilled = errors.New("process killed")

// deadHook refuses the Redis commands a dead replica would start.
type deadHook struct{ r *replica }

func (h deadHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h deadHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.r.dead.Load() {
			cmd.SetErr(errKilled)
			return errKilled
		}
		return next(ctx, cmd)
	}
}

func (h deadHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.r.dead.Load() {
			for _, c := range cmds {
				c.SetErr(errKilled)
			}
			return errKilled
		}
		return next(ctx, cmds)
	}
}

// Do implements telegram.Caller. A call that began before the kill completes,
// as a request already on the wire does.
func (r *replica) Do(ctx context.Context, req telegram.Request, result any) error {
	if r.dead.Load() {
		<-r.frozen
		return errKilled
	}
	if req.Method() != "sendMessage" {
		return nil
	}
	p := req.Params()
	chat, _ := strconv.ParseInt(p["chat_id"], 10, 64)
	if r.refuse != nil {
		if err := r.refuse(chat); err != nil {
			return err
		}
	}
	r.box.mu.Lock()
	r.box.seq++
	id := r.box.seq
	r.box.sent[chat] = append(r.box.sent[chat], p["text"])
	r.box.mu.Unlock()
	if m, ok := result.(*telegram.Message); ok {
		m.MessageID, m.Chat.ID = id, chat
	}
	return nil
}

// deadWriter drops a replica's log lines once it is dead.
type deadWriter struct {
	r *replica
	w io.Writer
}

func (w deadWriter) Write(b []byte) (int, error) {
	if w.r.dead.Load() {
		return len(b), nil
	}
	return w.w.Write(b)
}

// crashRound is one reminder round of a 20-member cell (16 expected with
// Telegram, 4 exempt) run by three replicas, one of which is killed at a step.
type crashRound struct {
	store   *storage.Store
	rdb     *redis.Client
	prefix  string
	box     *outbox
	cell    cell.Cell
	members []cell.Member
	meeting cell.Meeting
	// replicas, the dead ones too: their counters are what a scrape just
	// before the kill would have read.
	replicas []*replica
}

// reminders sums cellbot_reminders_total by outcome over the round's replicas.
func (cr *crashRound) reminders(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range cr.replicas {
		mfs, err := r.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "cellbot_reminders_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "outcome" {
						out[l.GetValue()] += m.GetCounter().GetValue()
					}
				}
			}
		}
	}
	return out
}

const (
	crashMembers  = 20
	crashExempt   = 4
	crashReplicas = 3
	crashLead     = 20 * time.Second
)

func newCrashRound(t *testing.T) *crashRound {
	t.Helper()
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	store := storage.New(rdb, prefix)
	c, sec, err := store.CreateCell(ctx, cell.Cell{Name: "Chi bộ Khu phố 3", ChatID: -100777, TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"},
		cell.Member{Name: "Bí thư Lan", UserID: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetCellQuiet(ctx, c.ID, cell.QuietHours{}); err != nil {
		t.Fatal(err)
	}
	k := store.Keys()
	members := []cell.Member{sec}
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for j := int64(2); j <= crashMembers; j++ {
			m := cell.Member{ID: j, Name: fmt.Sprintf("Đảng viên %02d", j), UserID: 5000 + j, Standing: cell.Official, Participation: cell.Regular}
			if j > crashMembers-crashExempt {
				m.Participation = cell.Exempt
			}
			data, _ := json.Marshal(m)
			p.HSet(ctx, k.Members(c.ID), strconv.FormatInt(j, 10), data)
			p.HSet(ctx, k.Users(c.ID), strconv.FormatInt(m.UserID, 10), j)
			members = append(members, m)
		}
		p.Set(ctx, k.MemberSeq(c.ID), crashMembers, 0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetLeads(ctx, c.ID, []time.Duration{crashLead}); err != nil {
		t.Fatal(err)
	}
	m, _, err := store.CreateMeeting(ctx, "crash", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: time.Now().Add(crashLead)})
	if err != nil {
		t.Fatal(err)
	}
	return &crashRound{store: store, rdb: rdb, prefix: prefix, box: &outbox{sent: map[int64][]string{}}, cell: c, members: members, meeting: m}
}

// start runs a replica until the test ends.
func (cr *crashRound) start(t *testing.T, probe func(r *replica) (sched, sent func(point, id string))) *replica {
	t.Helper()
	r := &replica{rdb: redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)}), reg: prometheus.NewRegistry(), box: cr.box, frozen: make(chan struct{})}
	r.rdb.AddHook(deadHook{r})
	cr.replicas = append(cr.replicas, r)
	store := storage.New(r.rdb, cr.prefix)
	logger := slog.New(slog.NewTextHandler(deadWriter{r, t.Output()}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	schedProbe, sentProbe := probe(r)
	var sched *scheduler.Scheduler
	sender, err := delivery.NewSender(delivery.SenderParams{Store: store, Caller: r, Logger: logger,
		Lease: 2 * time.Second, RecoverEvery: 200 * time.Millisecond, MaxWait: 500 * time.Millisecond, SendTimeout: time.Second,
		Probe: sentProbe, Completed: func(ctx context.Context, id, purpose string, result storage.QueueResult) {
			sched.Delivered(ctx, id, purpose, result)
		}, Wanted: func(ctx context.Context, e *storage.QueueEntry) bool { return sched.Wanted(ctx, e) },
		ReleaseEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sched, err = scheduler.New(scheduler.Params{Store: store, Delivery: sender, Logger: logger,
		Poll: 50 * time.Millisecond, Lease: time.Second, Probe: schedProbe, Registerer: r.reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sender.Run(ctx) })
	wg.Go(func() { _ = sched.Run(ctx) })
	t.Cleanup(func() {
		close(r.frozen)
		cancel()
		wg.Wait()
		_ = r.rdb.Close()
	})
	return r
}

// TestReminderRoundSurvivesAKilledReplica: three replicas share a reminder
// round; the one that reaches a step first is killed there. Whatever the step,
// every expected member is reminded exactly once, the group gets its counts
// once and the committee its list once, before the meeting starts.
// CELLBOT_CRASH_ROUNDS (default 8) sets the rounds per step.
func TestReminderRoundSurvivesAKilledReplica(t *testing.T) {
	rounds := envInt("CELLBOT_CRASH_ROUNDS", 8)
	points := []string{scheduler.ProbeRemindClaimed, "fan-out", scheduler.ProbeRemindMembers, scheduler.ProbeRemindQueued}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			var took time.Duration
			for round := range rounds {
				took = max(took, runCrashRound(t, point, round))
			}
			t.Logf("%s: %d rounds, each complete; slowest round %v after the due time", point, rounds, took.Round(time.Millisecond))
		})
	}
}

// runCrashRound runs one round killed at point and checks what everyone got;
// it returns how long after the due time the round was complete.
func runCrashRound(t *testing.T, point string, round int) time.Duration {
	cr := newCrashRound(t)
	var killed atomic.Bool
	var sentReminders atomic.Int32
	killHere := func(r *replica) bool {
		if !killed.CompareAndSwap(false, true) {
			return false
		}
		r.kill()
		<-r.frozen // a dead process never comes back
		return true
	}
	probe := func(r *replica) (func(string, string), func(string, string)) {
		sched := func(p, item string) {
			if p == point {
				killHere(r)
			}
		}
		sent := func(p, id string) {
			// After part of the fan-out: the process that sent the fifth
			// member's reminder dies.
			if point == "fan-out" && strings.HasPrefix(id, "remind:") && sentReminders.Add(1) == 5 {
				killHere(r)
			}
		}
		return sched, sent
	}
	for range crashReplicas {
		cr.start(t, probe)
	}
	due := time.Now()
	ctx := context.Background()
	item := storage.DueItem{Kind: storage.DueRemind, CellID: cr.cell.ID, MeetingID: cr.meeting.ID, Arg: int64(crashLead / time.Second), Version: cr.meeting.Version, At: due}
	if err := cr.store.ScheduleDue(ctx, item); err != nil {
		t.Fatal(err)
	}
	k := cr.store.Keys()
	complete := func() bool {
		for _, m := range cr.members {
			want := 1
			switch {
			case m.Participation == cell.Exempt:
				want = 0
			case m.Role.IsCommittee():
				want = 2 // the reminder and the list of who has not answered
			}
			if cr.box.count(m.UserID) < want {
				return false
			}
		}
		if cr.box.count(cr.cell.ChatID) < 1 {
			return false
		}
		d, err := cr.store.QueueDepth(ctx)
		if err != nil || d.Ready[0]+d.Ready[1]+d.Leased > 0 {
			return false
		}
		n, err := cr.rdb.ZCard(ctx, k.SchedDue()).Result()
		l, err2 := cr.rdb.ZCard(ctx, k.SchedLeased()).Result()
		return err == nil && err2 == nil && n+l == 0
	}
	deadline := cr.meeting.Start
	for !complete() {
		if time.Now().After(deadline) {
			t.Fatalf("round %d killed at %s: not complete when the meeting started (killed: %v)\n%s", round, point, killed.Load(), cr.report())
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(due)
	if !killed.Load() {
		t.Fatalf("round %d: no replica reached %s", round, point)
	}
	for _, m := range cr.members {
		want := 1
		switch {
		case m.Participation == cell.Exempt:
			want = 0
		case m.Role.IsCommittee():
			want = 2
		}
		if got := cr.box.count(m.UserID); got != want {
			t.Errorf("round %d killed at %s: %s got %d messages, want %d", round, point, m.Name, got, want)
		}
	}
	if got := cr.box.count(cr.cell.ChatID); got != 1 {
		t.Errorf("round %d killed at %s: the group got %d counts posts, want 1", round, point, got)
	}
	// Every expected member is accounted for: all of them have Telegram and
	// none asked to be excused, so all are sent.
	want := map[string]float64{scheduler.OutcomeSent: crashMembers - crashExempt}
	if got := cr.reminders(t); !maps.EqualFunc(nonZero(got), want, func(a, b float64) bool { return a == b }) {
		t.Errorf("round %d killed at %s: cellbot_reminders_total = %v, want %v", round, point, nonZero(got), want)
	}
	return took
}

func (cr *crashRound) report() string {
	cr.box.mu.Lock()
	defer cr.box.mu.Unlock()
	var b strings.Builder
	for _, m := range cr.members {
		fmt.Fprintf(&b, "%s (%s): %d\n", m.Name, m.Participation, len(cr.box.sent[m.UserID]))
	}
	fmt.Fprintf(&b, "group: %d\n", len(cr.box.sent[cr.cell.ChatID]))
	return b.String()
}

func nonZero(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
