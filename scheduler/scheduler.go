package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Enqueuer hands messages to the delivery queue (delivery.Sender); a message id
// that was queued before is not queued again.
type Enqueuer interface {
	Enqueue(ctx context.Context, msgs ...delivery.Message) (int, error)
	// EnqueueWave queues a round's reminders, each released into the queue
	// its After from now, the text stored once per template.
	EnqueueWave(ctx context.Context, t delivery.WaveTemplate, msgs []storage.WaveMessage) (int, error)
}

// Params are a Scheduler's dependencies; zero values of the tunables mean the
// defaults given.
type Params struct {
	Store    *storage.Store
	Delivery Enqueuer
	Logger   *slog.Logger
	// Now is the scheduler's clock: what is due is judged by it, so tests and the
	// sandbox move time instead of waiting. Default time.Now.
	Now        func() time.Time
	Registerer prometheus.Registerer // nil: no metrics
	Poll       time.Duration         // how often due items are looked for; default 250 ms
	// Lease is how long a claimed item is held without a heartbeat: the items
	// in hand are renewed every Lease/3, so that a process that died is taken
	// over within Lease+Poll. Default 6 s.
	Lease time.Duration
	Batch int // items claimed at once; default 100
	// Probe, when set, is called at the named steps of a due item (see the
	// Probe* constants) with the item's name. Tests kill the process there to
	// show that whatever step a process dies at, another one finishes the item.
	Probe func(point, item string)
	// Rate is how many messages a second the planner gives reminder waves
	// over all cells. Default WaveShare of the overall send limit.
	Rate float64
	// PlanEvery is how often the planner looks ahead. Default 5 s.
	PlanEvery time.Duration
	// BotUsername makes the check-in QR's deep link.
	BotUsername string
}

// Steps of a reminder at which Params.Probe is called.
const (
	ProbeRemindClaimed = "remind:claimed" // the item is leased; nothing queued yet
	ProbeRemindMembers = "remind:members" // the members' reminders are queued; the group's counts and the committee's list not yet
	ProbeRemindQueued  = "remind:queued"  // every message is queued; the item is not yet acknowledged
)

func (s *Scheduler) probe(point string, d storage.DueItem) {
	if s.p.Probe != nil {
		s.p.Probe(point, d.Name())
	}
}

// DefaultLease is how long a claimed item is held past its last heartbeat.
const DefaultLease = 6 * time.Second

// Scheduler plans meetings' notices and reminders and does them when due.
type Scheduler struct {
	p       Params
	log     *slog.Logger
	metrics metrics
	wake    chan struct{}
}

type metrics struct {
	reminders *prometheus.CounterVec // by outcome: sent, late, dropped, superseded
	notices   prometheus.Counter
}

// New builds a Scheduler.
func New(p Params) (*Scheduler, error) {
	if p.Store == nil || p.Delivery == nil {
		return nil, errors.New("scheduler: Store and Delivery are required")
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Poll <= 0 {
		p.Poll = 250 * time.Millisecond
	}
	if p.Lease <= 0 {
		p.Lease = DefaultLease
	}
	if p.Batch <= 0 {
		p.Batch = 100
	}
	if p.Rate <= 0 {
		p.Rate = WaveShare * float64(time.Second) / float64(storage.DefaultRateLimits().Global.Every)
	}
	if p.PlanEvery <= 0 {
		p.PlanEvery = 5 * time.Second
	}
	s := &Scheduler{p: p, log: p.Logger, wake: make(chan struct{}, 1)}
	s.metrics.reminders = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cellbot_reminders_total",
		Help: "Expected members of each reminder round, by outcome: sent, late (sent, the round having run late), unreachable (blocked the bot), failed, dropped (the meeting had started), superseded (a later lead was also due), excused (asked to be excused: not reminded), offline (no Telegram).",
	}, []string{"outcome"})
	for _, o := range []string{OutcomeSent, OutcomeLate, OutcomeUnreachable, OutcomeFailed, OutcomeDropped, OutcomeSuperseded, OutcomeExcused, OutcomeOffline} {
		s.metrics.reminders.WithLabelValues(o)
	}
	s.metrics.notices = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cellbot_notices_total", Help: "Meeting notices handed to delivery.",
	})
	if p.Registerer != nil {
		if err := p.Registerer.Register(s.metrics.reminders); err != nil {
			return nil, fmt.Errorf("scheduler: register metrics: %w", err)
		}
		if err := p.Registerer.Register(s.metrics.notices); err != nil {
			return nil, fmt.Errorf("scheduler: register metrics: %w", err)
		}
	}
	return s, nil
}

// Wake makes the loop look for due items now (after a meeting was created).
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run claims and does due items until ctx ends; an item in hand is finished.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.p.Poll)
	defer t.Stop()
	planned := make(chan struct{})
	go func() {
		defer close(planned)
		s.planLoop(ctx)
	}()
	defer func() { <-planned }()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("scheduler: run", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// RunOnce puts back items whose process died, then claims and does every item due
// now, and returns how many it did.
func (s *Scheduler) RunOnce(ctx context.Context) (int, error) {
	now := s.p.Now()
	if _, err := s.p.Store.RecoverDue(ctx, now, s.p.Batch); err != nil {
		return 0, err
	}
	done := 0
	for ctx.Err() == nil {
		items, err := s.p.Store.ClaimDue(ctx, now, s.p.Lease, s.p.Batch)
		if err != nil {
			return done, err
		}
		if len(items) == 0 {
			return done, nil
		}
		// Items come earliest first: reminders reach the queue in deadline order.
		var next atomic.Int32 // the first item not yet done
		stop := s.heartbeat(ctx, items, &next)
		for i, d := range items {
			if err := s.do(context.WithoutCancel(ctx), d); err != nil {
				// Left leased: it comes back when the lease ends.
				s.log.Error("scheduler: item failed; it will be retried", "item", d.Name(), "err", err)
			} else {
				done++
			}
			next.Store(int32(i + 1))
		}
		stop()
		if len(items) < s.p.Batch {
			return done, nil
		}
	}
	return done, ctx.Err()
}

// heartbeat renews, every Lease/3, the leases of the claimed items from next
// on, until stop is called: a long batch keeps its items, and a process that
// died loses them within one Lease.
func (s *Scheduler) heartbeat(ctx context.Context, items []storage.DueItem, next *atomic.Int32) (stop func()) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.p.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
			}
			rest := items[min(int(next.Load()), len(items)):]
			if err := s.p.Store.ExtendDue(hctx, s.p.Now(), s.p.Lease, rest...); err != nil && hctx.Err() == nil {
				s.log.Warn("scheduler: renew the leases of the items in hand", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func (s *Scheduler) do(ctx context.Context, d storage.DueItem) error {
	var err error
	switch d.Kind {
	case storage.DuePlan:
		return s.plan(ctx, d) // acknowledges with its follow-up
	case storage.DueNotice:
		err = s.notice(ctx, d)
	case storage.DueRemind:
		if err = s.remind(ctx, d); err == nil {
			s.probe(ProbeRemindQueued, d)
		}
	case storage.DueRemindPost:
		err = s.remindPost(ctx, d)
	case storage.DueQuarter:
		err = s.quarter(ctx, d)
	case storage.DueGroup:
		err = s.groupNotice(ctx, d)
	case storage.DueCheckin:
		return s.checkinStep(ctx, d) // acknowledges with its next step
	case storage.DueCheckinEnd:
		err = s.checkinEnd(ctx, d)
	default:
		s.log.Warn("scheduler: unknown item dropped", "item", d.Name())
	}
	if err != nil {
		return err
	}
	return s.p.Store.AckDue(ctx, d)
}

// cellData is what an item needs of its cell.
type cellData struct {
	cell   cell.Cell
	loc    *time.Location
	sched  cell.Schedule
	roster []cell.Member
	langs  map[int64]string // by Telegram user id
}

func (s *Scheduler) load(ctx context.Context, cellID int64) (cellData, error) {
	c, err := s.p.Store.Cell(ctx, cellID)
	if err != nil {
		return cellData{}, err
	}
	loc, err := c.LoadLocation()
	if err != nil {
		s.log.Error("scheduler: cell time zone does not load; using UTC", "cell", cellID, "tz", c.TimeZone, "err", err)
		loc = time.UTC
	}
	sched, err := s.p.Store.Schedule(ctx, cellID)
	if err != nil {
		return cellData{}, err
	}
	roster, err := s.p.Store.Members(ctx, cellID)
	if err != nil {
		return cellData{}, err
	}
	// Members who have left get nothing from the bot.
	roster = cell.Staying(roster, s.p.Now().In(loc))
	var users []int64
	for _, m := range roster {
		if m.UserID != 0 {
			users = append(users, m.UserID)
		}
	}
	langs, err := s.p.Store.UserLangs(ctx, users)
	if err != nil {
		return cellData{}, err
	}
	return cellData{cell: c, loc: loc, sched: sched, roster: roster, langs: langs}, nil
}

func (cd cellData) lang(m cell.Member) string {
	if l := cd.langs[m.UserID]; texts.Supported(l) {
		return l
	}
	if texts.Supported(cd.cell.Lang) {
		return cd.cell.Lang
	}
	return texts.VI
}

func (cd cellData) groupLang() string {
	if texts.Supported(cd.cell.Lang) {
		return cd.cell.Lang
	}
	return texts.VI
}

// Leads are the cell's reminder lead times, longest first.
func (cd cellData) leads() []time.Duration {
	if len(cd.sched.Leads) > 0 {
		return cd.sched.Leads
	}
	return DefaultLeads
}

// meetingFor loads the item's meeting, and says whether the item still applies to
// it (same version, not cancelled or closed).
func (s *Scheduler) meetingFor(ctx context.Context, d storage.DueItem) (cell.Meeting, bool, error) {
	m, err := s.p.Store.Meeting(ctx, d.CellID, d.MeetingID)
	if errors.Is(err, storage.ErrNotFound) {
		return cell.Meeting{}, false, nil
	}
	if err != nil {
		return cell.Meeting{}, false, err
	}
	return m, m.Version == d.Version && m.Open(), nil
}
