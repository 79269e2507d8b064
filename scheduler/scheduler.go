package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Enqueuer hands messages to the delivery queue (delivery.Sender); a message id
// that was queued before is not queued again.
type Enqueuer interface {
	Enqueue(ctx context.Context, msgs ...delivery.Message) (int, error)
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

// Purposes of the members' reminders in the delivery queue.
const (
	PurposeReminder     = "reminder"
	PurposeLateReminder = "late reminder"
)

// Outcomes of cellbot_reminders_total: each expected member of a round is
// counted under one.
const (
	OutcomeSent        = "sent"
	OutcomeLate        = "late"
	OutcomeUnreachable = "unreachable"
	OutcomeFailed      = "failed"
	OutcomeDropped     = "dropped"
	OutcomeSuperseded  = "superseded"
	OutcomeExcused     = "excused"
	OutcomeOffline     = "offline"
)

// Delivered follows up a message of the scheduler that delivery ended,
// whichever process queued it (delivery.SenderParams.Completed): a member's
// reminder is counted, and a group notice Telegram refused is reported.
func (s *Scheduler) Delivered(ctx context.Context, id, purpose string, result storage.QueueResult) {
	if purpose == PurposeGroupNotice && result == storage.ResultFailed {
		s.groupRefused(ctx, id)
		return
	}
	if purpose != PurposeReminder && purpose != PurposeLateReminder {
		return
	}
	outcome := OutcomeFailed
	switch {
	case result == storage.ResultSent && purpose == PurposeLateReminder:
		outcome = OutcomeLate
	case result == storage.ResultSent:
		outcome = OutcomeSent
	case result == storage.ResultUnreachable:
		outcome = OutcomeUnreachable
	}
	s.metrics.reminders.WithLabelValues(outcome).Inc()
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
	case storage.DueQuarter:
		err = s.quarter(ctx, d)
	case storage.DueGroup:
		err = s.groupNotice(ctx, d)
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

// Items returns a new meeting's notice (due at once) and reminders: each lead
// whose time has not passed when the meeting is made (a longer lead is skipped:
// the notice serves), and the quarter's topical check.
func Items(c cell.Cell, quiet cell.QuietHours, leads []time.Duration, m cell.Meeting, now time.Time) []storage.DueItem {
	loc := cellLocation(c)
	at := NoticeAt(m, now)
	items := []storage.DueItem{{Kind: storage.DueNotice, CellID: c.ID, MeetingID: m.ID, Version: m.Version, At: at}}
	// A lead longer than the time left at the notice is skipped: the notice
	// serves.
	items = append(items, reminderItems(c.ID, loc, quiet, leads, m, at)...)
	if q, ok := quarterItem(c.ID, loc, m.Start, now); ok {
		items = append(items, q)
	}
	return items
}

// remindersFrom is the time from which a meeting's reminders are planned: now,
// or, while its notice has not gone (nobody notified), the notice's time, since
// reminders come after it.
func remindersFrom(m cell.Meeting, notified []int64, now time.Time) time.Time {
	if len(notified) == 0 {
		return NoticeAt(m, now)
	}
	return now
}

// NoticeAt is when a meeting's notice goes: at once for a one-off meeting, and
// NoticeLead before a recurring one (at once when that has passed).
func NoticeAt(m cell.Meeting, now time.Time) time.Time {
	if at := m.Start.Add(-NoticeLead); !m.Nominal.IsZero() && at.After(now) {
		return at
	}
	return now
}

func reminderItems(cellID int64, loc *time.Location, quiet cell.QuietHours, leads []time.Duration, m cell.Meeting, now time.Time) []storage.DueItem {
	var items []storage.DueItem
	for _, lead := range leads {
		if !m.Start.Add(-lead).After(now) {
			continue
		}
		at := ReminderDue(m.Start, lead, quiet, loc)
		if at.Before(now) {
			at = now
		}
		items = append(items, storage.DueItem{Kind: storage.DueRemind, CellID: cellID, MeetingID: m.ID, Arg: int64(lead / time.Second), Version: m.Version, At: at})
	}
	return items
}

// ReminderItems are the reminder items of a meeting, for unscheduling them when it
// moves or is cancelled.
func ReminderItems(c cell.Cell, quiet cell.QuietHours, leads []time.Duration, m cell.Meeting) []storage.DueItem {
	var items []storage.DueItem
	for _, lead := range leads {
		items = append(items, storage.DueItem{Kind: storage.DueRemind, CellID: c.ID, MeetingID: m.ID, Arg: int64(lead / time.Second), Version: m.Version})
	}
	return items
}

// Quarter returns the year and quarter (1–4) of t, and the quarter's bounds.
func Quarter(t time.Time) (year, q int, from, to time.Time) {
	q = (int(t.Month())-1)/3 + 1
	from = time.Date(t.Year(), time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, t.Location())
	return t.Year(), q, from, from.AddDate(0, 3, 0)
}

// quarterItem is the topical-meeting check of the quarter of t, due two weeks
// before it ends (at once when that has passed but the quarter has not).
func quarterItem(cellID int64, loc *time.Location, t, now time.Time) (storage.DueItem, bool) {
	y, q, _, end := Quarter(t.In(loc))
	if !now.Before(end) {
		return storage.DueItem{}, false
	}
	at := end.AddDate(0, 0, -14)
	if at.Before(now) {
		at = now
	}
	return storage.DueItem{Kind: storage.DueQuarter, CellID: cellID, Arg: int64(y*10 + q), At: at}, true
}

// Planned schedules a new meeting's items, and wakes the loop.
func (s *Scheduler) Planned(ctx context.Context, c cell.Cell, m cell.Meeting) error {
	sched, err := s.p.Store.Schedule(ctx, c.ID)
	if err != nil {
		return err
	}
	leads := sched.Leads
	if len(leads) == 0 {
		leads = DefaultLeads
	}
	if err := s.p.Store.ScheduleDue(ctx, Items(c, c.Quiet, leads, m, s.p.Now())...); err != nil {
		return err
	}
	s.Wake()
	return nil
}

// plan materialises the cell's recurring meetings: those whose notice is due (7
// days before) and the next one after them, so that /meetings, /rsvp, /agenda
// and /move see the next meeting as soon as there is a schedule; its notice waits
// for its time (Items). The item comes back when that notice is due, for the one
// after.
func (s *Scheduler) plan(ctx context.Context, d storage.DueItem) error {
	next, err := s.planCell(ctx, d.CellID, d.Version)
	if err != nil {
		return err
	}
	if err := s.p.Store.AckDue(ctx, d); err != nil {
		return err
	}
	if next.IsZero() {
		return nil
	}
	d.At = next
	return s.p.Store.RescheduleDue(ctx, d)
}

// planCell does plan's work for the schedule's version, and returns when to
// plan again (zero: never, the schedule changed or ended).
func (s *Scheduler) planCell(ctx context.Context, cellID int64, version int) (time.Time, error) {
	cd, err := s.load(ctx, cellID)
	if errors.Is(err, storage.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if cd.sched.Cron == "" || cd.sched.Version != version {
		return time.Time{}, nil // a later /schedule planned its own
	}
	holidays, err := s.p.Store.Holidays(ctx, cellID)
	if err != nil {
		return time.Time{}, err
	}
	rec, err := NewRecurrence(cd.sched.Cron, cd.sched.Workday, holidays, cd.loc)
	if err != nil {
		s.log.Error("scheduler: stored cron line does not parse; planning stops", "cell", cellID, "err", err)
		return time.Time{}, nil
	}
	now := s.p.Now()
	// The occurrences planned already, by their nominal time: a holiday may
	// have moved one since.
	planned, err := s.p.Store.Meetings(ctx, cellID, now.Add(-NoticeLead), now.AddDate(2, 0, 0))
	if err != nil {
		return time.Time{}, err
	}
	byNominal := make(map[int64]cell.Meeting, len(planned))
	for _, m := range planned {
		if !m.Nominal.IsZero() {
			byNominal[m.Nominal.Unix()] = m
		}
	}
	t := now
	for range 12 {
		occ, ok := rec.Next(t)
		if !ok {
			return time.Time{}, nil
		}
		open, err := s.occurrence(ctx, cd, byNominal, occ, now)
		if err != nil {
			return time.Time{}, err
		}
		// A cancelled occurrence is no "next meeting": the one after it is.
		if at := occ.Start.Add(-NoticeLead); at.After(now) && open {
			return at, nil
		}
		t = occ.Start
	}
	return time.Time{}, nil
}

// occurrence makes sure one occurrence of the schedule is a meeting with its
// items: created when new, moved (whoever got its notice told) when a holiday
// or workday shift moved it and the committee had not moved it by hand. It
// reports whether the meeting is open (not cancelled or closed).
func (s *Scheduler) occurrence(ctx context.Context, cd cellData, byNominal map[int64]cell.Meeting, occ Occurrence, now time.Time) (bool, error) {
	m, found := byNominal[occ.Nominal.Unix()]
	switch {
	case !found:
		m = cell.Meeting{CellID: cd.cell.ID, Kind: cell.KindRegular, Start: occ.Start, Place: cd.sched.Place, Nominal: occ.Nominal}
		origin := fmt.Sprintf("occ:%d:%d", occ.Nominal.Unix(), occ.Start.Unix())
		var created bool
		var err error
		m, created, err = s.p.Store.CreateMeeting(ctx, origin, m)
		if err != nil {
			return false, err
		}
		if created {
			s.log.Info("scheduler: recurring meeting planned", "cell", cd.cell.ID, "meeting", m.ID, "start", m.Start)
		}
	case m.Open() && !m.Moved && !m.Start.Equal(occ.Start):
		old := m
		moved, err := s.p.Store.UpdateMeeting(ctx, cd.cell.ID, m.ID, func(m *cell.Meeting) error {
			if m.Version != old.Version || !m.Open() || m.Moved {
				return storage.ErrStale
			}
			m.Start = occ.Start
			m.Version++
			return nil
		})
		if errors.Is(err, storage.ErrStale) {
			return true, nil // moved or closed meanwhile: that change stands
		}
		if err != nil {
			return false, err
		}
		s.log.Info("scheduler: recurring meeting moved by the schedule", "cell", cd.cell.ID, "meeting", m.ID, "from", old.Start, "to", moved.Start)
		_, err = s.Changed(ctx, old, moved)
		return true, err
	}
	if !m.Open() {
		return false, nil
	}
	if found {
		// Planned before: its items are due already, unless planning stopped
		// between the meeting and its items; once its notice went, a notice
		// item under a later version would announce it twice.
		notified, err := s.p.Store.Notified(ctx, cd.cell.ID, m.ID)
		if err != nil || len(notified) > 0 {
			return true, err
		}
		// Not announced yet: it takes the schedule's place, if /schedule
		// changed it since.
		if place := cd.sched.Place; place != "" && m.Place != place && !m.Moved {
			if m, err = s.p.Store.UpdateMeeting(ctx, cd.cell.ID, m.ID, func(x *cell.Meeting) error {
				x.Place = place
				return nil
			}); err != nil {
				return true, err
			}
		}
	}
	return true, s.p.Store.ScheduleDue(ctx, Items(cd.cell, cd.cell.Quiet, cd.leads(), m, now)...)
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

// notice sends a meeting's notice to the group and to every member who gets
// notices (exempt and away members too), with the RSVP buttons.
func (s *Scheduler) notice(ctx context.Context, d storage.DueItem) error {
	m, ok, err := s.meetingFor(ctx, d)
	if err != nil || !ok {
		return err
	}
	now := s.p.Now()
	if !now.Before(m.Start) {
		s.log.Warn("scheduler: notice dropped: the meeting has started", "cell", d.CellID, "meeting", m.ID)
		return nil
	}
	cd, err := s.load(ctx, d.CellID)
	if err != nil {
		return err
	}
	var notBefore time.Time
	if until, quiet := cd.cell.Quiet.Until(now.In(cd.loc)); quiet {
		notBefore = until
	}
	id := fmt.Sprintf("notice:%d:%d:%d", d.CellID, m.ID, m.Version)
	var msgs []delivery.Message
	var notified []int64
	for _, mem := range cd.roster {
		if mem.UserID == 0 || !mem.GetsNotices(m.Start.In(cd.loc)) {
			continue
		}
		lang := cd.lang(mem)
		notified = append(notified, mem.ID)
		msgs = append(msgs, delivery.Message{
			ID:        fmt.Sprintf("%s:%d", id, mem.ID),
			To:        storage.QueueRecipient{CellID: d.CellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:     delivery.TextParts(mem.UserID, []string{NoticeText(lang, cd.cell, m)}, RSVPKeyboard(lang, d.CellID, m.ID)),
			Purpose:   "notice",
			Priority:  storage.PriorityBulk,
			NotBefore: notBefore,
		})
	}
	if cd.cell.ChatID != 0 {
		at := now
		if !notBefore.IsZero() {
			at = notBefore
		}
		if err := s.p.Store.ScheduleDue(ctx, storage.DueItem{Kind: storage.DueGroup, CellID: d.CellID, MeetingID: m.ID, Version: m.Version, At: at}); err != nil {
			return err
		}
	}
	// Recorded first: whoever the notice is queued for hears of a move.
	if err := s.p.Store.AddNotified(ctx, d.CellID, m.ID, notified); err != nil {
		return err
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue the notice of meeting %d: %w", m.ID, err)
	}
	s.metrics.notices.Inc()
	s.log.Info("scheduler: notice queued", "cell", d.CellID, "meeting", m.ID, "recipients", len(msgs))
	return nil
}

// Tally counts the answers of the meeting's expected members, and lists those who
// have not answered.
func Tally(roster []cell.Member, answers map[int64]cell.Answer, day time.Time) (Counts, []cell.Member) {
	var t Counts
	var silent []cell.Member
	for _, m := range roster {
		if !m.Expected(day) {
			continue
		}
		t.Expected++
		switch answers[m.ID].Kind {
		case cell.Coming:
			t.Coming++
		case cell.Excused:
			t.Excused++
		case cell.Unsure:
			t.Unsure++
		default:
			t.NoAnswer++
			silent = append(silent, m)
		}
	}
	return t, silent
}

// remind sends one reminder of a meeting to its expected members who have not
// asked to be excused, posts the counts to the group, and at the last lead tells
// the committee who has not answered.
func (s *Scheduler) remind(ctx context.Context, d storage.DueItem) error {
	s.probe(ProbeRemindClaimed, d)
	m, ok, err := s.meetingFor(ctx, d)
	if err != nil || !ok {
		return err
	}
	now := s.p.Now()
	lead := time.Duration(d.Arg) * time.Second
	log := s.log.With("cell", d.CellID, "meeting", m.ID, "lead", FormatLead(lead))
	cd, err := s.load(ctx, d.CellID)
	if err != nil {
		return err
	}
	day := m.Start.In(cd.loc)
	// Every expected member of a round is counted once under one outcome, so
	// that the counts add up to the expected members and a loss shows.
	expected := func() int {
		n := 0
		for _, mem := range cd.roster {
			if mem.Expected(day) {
				n++
			}
		}
		return n
	}
	if !now.Before(m.Start) {
		log.Warn("scheduler: reminder dropped: the meeting has started", "due", d.At, "late_by", now.Sub(d.At).String())
		s.metrics.reminders.WithLabelValues(OutcomeDropped).Add(float64(expected()))
		return nil
	}
	leads := cd.leads()
	// When several leads were missed, only the latest of them is sent.
	for _, l := range leads {
		if l < lead && !ReminderDue(m.Start, l, cd.cell.Quiet, cd.loc).After(now) {
			log.Info("scheduler: reminder superseded by a later one also due")
			s.metrics.reminders.WithLabelValues(OutcomeSuperseded).Add(float64(expected()))
			return nil
		}
	}
	last := lead == slices.Min(leads)
	late := now.Sub(d.At) > time.Minute
	answers, err := s.p.Store.Answers(ctx, d.CellID, m.ID)
	if err != nil {
		return err
	}
	counts, silent := Tally(cd.roster, answers, day)
	id := fmt.Sprintf("remind:%d:%d:%d:%d", d.CellID, m.ID, m.Version, d.Arg)
	left := m.Start.Sub(now)
	purpose := PurposeReminder
	if late {
		purpose = PurposeLateReminder
	}
	var msgs []delivery.Message
	var excused, offline int
	for _, mem := range cd.roster {
		switch {
		case !mem.Expected(day):
			continue
		case answers[mem.ID].Kind == cell.Excused:
			excused++
			continue
		case mem.UserID == 0:
			offline++
			continue
		}
		lang := cd.lang(mem)
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:%d", id, mem.ID),
			To:       storage.QueueRecipient{CellID: d.CellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, []string{ReminderText(lang, cd.cell, m, left, late)}, RSVPKeyboard(lang, d.CellID, m.ID)),
			Purpose:  purpose,
			Priority: storage.PriorityUrgent,
		})
	}
	// The members' reminders are queued first, then the group's counts and the
	// committee's list: a process that dies between the two leaves the item
	// leased, and whoever takes it over queues all of them again, the ids
	// already queued being left alone.
	added, err := s.p.Delivery.Enqueue(ctx, msgs...)
	if err != nil {
		return fmt.Errorf("scheduler: queue reminder %s: %w", id, err)
	}
	// Those not reminded are counted by the process that first queued the
	// round (or by each, when nobody is to be reminded); the reminded ones as
	// delivery ends them (Delivered).
	if added > 0 || len(msgs) == 0 {
		s.metrics.reminders.WithLabelValues(OutcomeExcused).Add(float64(excused))
		s.metrics.reminders.WithLabelValues(OutcomeOffline).Add(float64(offline))
	}
	s.probe(ProbeRemindMembers, d)
	members := len(msgs)
	msgs = msgs[:0]
	if cd.cell.ChatID != 0 {
		lang := cd.groupLang()
		msgs = append(msgs, delivery.Message{
			ID:       id + ":group",
			To:       storage.QueueRecipient{CellID: d.CellID, ChatID: cd.cell.ChatID},
			Parts:    delivery.TextParts(cd.cell.ChatID, []string{CountsText(lang, cd.cell, m, counts)}, nil),
			Purpose:  "reminder counts",
			Priority: storage.PriorityUrgent,
		})
	}
	if last {
		msgs = append(msgs, s.silentReport(cd, m, id, silent)...)
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue reminder %s: %w", id, err)
	}
	log.Info("scheduler: reminder queued", "recipients", members, "late", late)
	return nil
}

// silentReport tells the committee, privately, who has not answered: names are
// for the committee only (privacy: members see counts).
func (s *Scheduler) silentReport(cd cellData, m cell.Meeting, id string, silent []cell.Member) []delivery.Message {
	var msgs []delivery.Message
	for _, mem := range cd.roster {
		if !mem.Role.IsCommittee() || mem.UserID == 0 {
			continue
		}
		lang := cd.lang(mem)
		text := texts.T(lang, texts.MeetingAllAnswered, When(lang, cd.cell, m))
		if len(silent) > 0 {
			names := make([]string, len(silent))
			for i, sm := range silent {
				names[i] = "• " + texts.Escape(sm.Name)
			}
			text = texts.T(lang, texts.MeetingNoAnswer, When(lang, cd.cell, m), len(silent), strings.Join(names, "\n"))
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:committee:%d", id, mem.ID),
			To:       storage.QueueRecipient{CellID: cd.cell.ID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, delivery.Split(text, delivery.MaxText), nil),
			Purpose:  "committee notice",
			Priority: storage.PriorityUrgent,
		})
	}
	return msgs
}

// quarter warns the committee when the quarter is two weeks from its end with no
// topical meeting held or planned.
func (s *Scheduler) quarter(ctx context.Context, d storage.DueItem) error {
	cd, err := s.load(ctx, d.CellID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	year, q := int(d.Arg/10), int(d.Arg%10)
	from := time.Date(year, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, cd.loc)
	ms, err := s.p.Store.Meetings(ctx, d.CellID, from, from.AddDate(0, 3, 0))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Kind == cell.KindTopical && m.State != cell.StateCancelled {
			return nil
		}
	}
	var msgs []delivery.Message
	for _, mem := range cd.roster {
		if !mem.Role.IsCommittee() || mem.UserID == 0 {
			continue
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("quarter:%d:%d:%d", d.CellID, d.Arg, mem.ID),
			To:       storage.QueueRecipient{CellID: d.CellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, []string{texts.T(cd.lang(mem), texts.QuarterNoTopical, texts.QuarterNumeral(cd.lang(mem), q), year)}, nil),
			Purpose:  "committee notice",
			Priority: storage.PriorityUrgent,
		})
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue the quarter warning: %w", err)
	}
	return nil
}

// Changed tells everyone who got a meeting's notice that it moved (m is the
// meeting as it is now, from its old start) or was cancelled, once each, and
// replaces its pending reminders.
func (s *Scheduler) Changed(ctx context.Context, old, m cell.Meeting) (int, error) {
	cd, err := s.load(ctx, m.CellID)
	if err != nil {
		return 0, err
	}
	if err := s.p.Store.UnscheduleDue(ctx, ReminderItems(cd.cell, cd.cell.Quiet, cd.leads(), old)...); err != nil {
		return 0, err
	}
	if err := s.p.Store.UnscheduleDue(ctx, storage.DueItem{Kind: storage.DueNotice, CellID: m.CellID, MeetingID: m.ID, Version: old.Version}); err != nil {
		return 0, err
	}
	now := s.p.Now()
	notified, err := s.p.Store.Notified(ctx, m.CellID, m.ID)
	if err != nil {
		return 0, err
	}
	from := remindersFrom(m, notified, now)
	if m.Open() {
		items := reminderItems(m.CellID, cd.loc, cd.cell.Quiet, cd.leads(), m, from)
		if err := s.p.Store.ScheduleDue(ctx, items...); err != nil {
			return 0, err
		}
	}
	// The group's notice shows the new time, or that the meeting is cancelled.
	if err := s.p.Store.MarkCounts(ctx, m.CellID, m.ID); err != nil {
		return 0, err
	}
	if len(notified) == 0 && m.Open() {
		// The notice had not gone yet: it goes at its time, with the new one.
		return 0, s.p.Store.ScheduleDue(ctx, storage.DueItem{Kind: storage.DueNotice, CellID: m.CellID, MeetingID: m.ID, Version: m.Version, At: from})
	}
	byID := make(map[int64]cell.Member, len(cd.roster))
	for _, mem := range cd.roster {
		byID[mem.ID] = mem
	}
	var msgs []delivery.Message
	for _, id := range notified {
		mem, ok := byID[id]
		if !ok || mem.UserID == 0 {
			continue
		}
		lang := cd.lang(mem)
		var text, msgID string
		var kb = RSVPKeyboard(lang, m.CellID, m.ID)
		if m.State == cell.StateCancelled {
			msgID = fmt.Sprintf("cancel:%d:%d:%d", m.CellID, m.ID, mem.ID)
			text = texts.T(lang, texts.MeetingCancelled, texts.Escape(cd.cell.Name), strings.ToLower(KindName(lang, old.Kind)), When(lang, cd.cell, old))
			kb = nil
		} else {
			msgID = fmt.Sprintf("moved:%d:%d:%d:%d", m.CellID, m.ID, m.Version, mem.ID)
			text = texts.T(lang, texts.MeetingMoved, texts.Escape(cd.cell.Name), When(lang, cd.cell, old), When(lang, cd.cell, m)) + details(lang, m)
		}
		msgs = append(msgs, delivery.Message{
			ID:       msgID,
			To:       storage.QueueRecipient{CellID: m.CellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, []string{text}, kb),
			Purpose:  "meeting change",
			Priority: storage.PriorityUrgent,
		})
	}
	n, err := s.p.Delivery.Enqueue(ctx, msgs...)
	if err != nil {
		return 0, fmt.Errorf("scheduler: queue the change of meeting %d: %w", m.ID, err)
	}
	_ = n
	return len(msgs), nil
}

// PurposeGroupNotice is the purpose of the group's notice in the queue.
const PurposeGroupNotice = "group notice"

// groupNoticeID is the queue's id of a meeting's notice in the group: one post
// per meeting, whatever moves it; its message id is recorded under the same
// name (storage.QueueEntry.Result), and the live counts edit it by reference.
func groupNoticeID(cellID, meetingID int64) string {
	return fmt.Sprintf("groupnotice:%d:%d", cellID, meetingID)
}

// groupNotice queues a meeting's notice in the group, with the RSVP buttons and
// the counts so far; the queue records its message id for the live counts.
func (s *Scheduler) groupNotice(ctx context.Context, d storage.DueItem) error {
	m, ok, err := s.meetingFor(ctx, d)
	if err != nil || !ok {
		return err
	}
	if !s.p.Now().Before(m.Start) {
		return nil
	}
	text, c, err := s.groupText(ctx, d.CellID, m)
	if err != nil || c.ChatID == 0 {
		return err
	}
	id := groupNoticeID(d.CellID, m.ID)
	if _, err := s.p.Delivery.Enqueue(ctx, delivery.Message{
		ID:       id,
		To:       storage.QueueRecipient{CellID: d.CellID, ChatID: c.ChatID},
		Parts:    delivery.TextParts(c.ChatID, []string{text}, RSVPKeyboard(groupLang(c), c.ID, m.ID)),
		Purpose:  PurposeGroupNotice,
		Priority: storage.PriorityUrgent,
		Result:   id,
	}); err != nil {
		return fmt.Errorf("scheduler: queue the notice of meeting %d in the group: %w", m.ID, err)
	}
	// What the group is shown, once it is queued: the live counts edit it
	// from then on, behind it in the group's lane.
	_, shown, err := s.p.Store.GroupNotice(ctx, d.CellID, m.ID)
	if err != nil || shown != "" {
		return err
	}
	return s.p.Store.SetGroupNotice(ctx, d.CellID, m.ID, 0, text)
}

// groupRefused tells the committee, once, that Telegram refused the group's
// notice as it is (too long, malformed, the bot removed from the group): sending
// it again would be refused again, so it is not retried.
func (s *Scheduler) groupRefused(ctx context.Context, id string) {
	var cellID, meetingID int64
	if _, err := fmt.Sscanf(id, "groupnotice:%d:%d", &cellID, &meetingID); err != nil {
		return
	}
	m, err := s.p.Store.Meeting(ctx, cellID, meetingID)
	if err == nil {
		err = s.tellCommittee(ctx, cellID, "groupfail:"+id[len("groupnotice:"):], func(lang string, c cell.Cell) string {
			return texts.T(lang, texts.MeetingGroupRefused, When(lang, c, m))
		})
	}
	if err != nil {
		s.log.Error("scheduler: tell the committee the group refused a notice", "msg", id, "err", err)
	}
}

// tellCommittee queues a text to each committee member of the cell who has
// Telegram, once per id.
func (s *Scheduler) tellCommittee(ctx context.Context, cellID int64, id string, text func(lang string, c cell.Cell) string) error {
	cd, err := s.load(ctx, cellID)
	if err != nil {
		return err
	}
	var msgs []delivery.Message
	for _, mem := range cd.roster {
		if !mem.Role.IsCommittee() || mem.UserID == 0 {
			continue
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:%d", id, mem.ID),
			To:       storage.QueueRecipient{CellID: cellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, []string{text(cd.lang(mem), cd.cell)}, nil),
			Purpose:  "committee notice",
			Priority: storage.PriorityUrgent,
		})
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: tell the committee %s: %w", id, err)
	}
	return nil
}

// groupText is the group's notice with the counts of the expected members'
// answers (no names: those are for the committee).
func (s *Scheduler) groupText(ctx context.Context, cellID int64, m cell.Meeting) (string, cell.Cell, error) {
	cd, err := s.load(ctx, cellID)
	if err != nil {
		return "", cell.Cell{}, err
	}
	answers, err := s.p.Store.Answers(ctx, cellID, m.ID)
	if err != nil {
		return "", cell.Cell{}, err
	}
	counts, _ := Tally(cd.roster, answers, m.Start.In(cd.loc))
	lang := cd.groupLang()
	if m.State == cell.StateCancelled {
		return texts.T(lang, texts.MeetingCancelled, texts.Escape(cd.cell.Name), strings.ToLower(KindName(lang, m.Kind)), When(lang, cd.cell, m)), cd.cell, nil
	}
	return NoticeText(lang, cd.cell, m) + "\n\n" + CountsText(lang, cd.cell, m, counts), cd.cell, nil
}

func groupLang(c cell.Cell) string {
	if texts.Supported(c.Lang) {
		return c.Lang
	}
	return texts.VI
}

// countsGap is the least time between two edits of one group's notice: Telegram
// takes 20 messages a minute in a group.
const countsGap = 3200 * time.Millisecond

// RunCounts edits the group notices whose answers changed, until ctx ends: the
// presses of a few seconds make one edit, the last edit shows the true counts, and
// an edit that would show the text already shown is not made.
func (s *Scheduler) RunCounts(ctx context.Context) error {
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		s.countsOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Scheduler) countsOnce(ctx context.Context) {
	claims, err := s.p.Store.ClaimCounts(ctx, 15*time.Second, 50)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("scheduler: claim counts", "err", err)
		}
		return
	}
	for _, c := range claims {
		ctx := context.WithoutCancel(ctx)
		gap, err := s.editCounts(ctx, c)
		if err != nil {
			s.log.Warn("scheduler: edit counts", "cell", c.CellID, "meeting", c.MeetingID, "err", err)
			if err := s.p.Store.DelayCounts(ctx, c, countsGap); err != nil {
				s.log.Warn("scheduler: delay counts", "err", err)
			}
			continue
		}
		if err := s.p.Store.DoneCounts(ctx, c, gap); err != nil {
			s.log.Warn("scheduler: finish counts", "err", err)
		}
	}
}

func (s *Scheduler) editCounts(ctx context.Context, c storage.CountsClaim) (time.Duration, error) {
	m, err := s.p.Store.Meeting(ctx, c.CellID, c.MeetingID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	_, shown, err := s.p.Store.GroupNotice(ctx, c.CellID, c.MeetingID)
	if err != nil || shown == "" {
		return 0, err // not queued yet: it will show the counts of its time
	}
	text, cl, err := s.groupText(ctx, c.CellID, m)
	if err != nil {
		return 0, err
	}
	if text == shown || cl.ChatID == 0 {
		return 0, nil
	}
	var kb *telegram.InlineKeyboardMarkup
	if m.Open() && s.p.Now().Before(m.Start) {
		kb = RSVPKeyboard(groupLang(cl), cl.ID, m.ID)
	}
	// An edit of the notice by reference, behind it in the group's lane; while
	// one waits, a newer one takes its place (the latest counts win).
	notice := groupNoticeID(c.CellID, c.MeetingID)
	edit := delivery.RawOf(telegram.EditMessageText{ChatID: cl.ChatID, Text: text, Keyboard: kb})
	edit.Values["message_id"] = delivery.Ref(notice)
	if _, err := s.p.Delivery.Enqueue(ctx, delivery.Message{
		ID:       fmt.Sprintf("counts:%d:%d:%d", c.CellID, c.MeetingID, time.Now().UnixNano()),
		To:       storage.QueueRecipient{CellID: c.CellID, ChatID: cl.ChatID},
		Parts:    []telegram.Raw{edit},
		Purpose:  "live counts",
		Priority: storage.PriorityUrgent,
		Coalesce: "counts:" + notice,
	}); err != nil {
		return 0, fmt.Errorf("scheduler: queue the counts of meeting %d: %w", c.MeetingID, err)
	}
	if err := s.p.Store.SetGroupNotice(ctx, c.CellID, c.MeetingID, 0, text); err != nil {
		return 0, err
	}
	return countsGap, nil
}

// RemindersChanged plans anew the reminders of the cell's meetings to come after
// /reminders or /quiet: those of the leads it had (oldLeads) are dropped, and
// those of its leads now are planned, but for the leads whose time has passed
// (a reminder that went already has its message id, and does not go twice).
func (s *Scheduler) RemindersChanged(ctx context.Context, cellID int64, oldLeads []time.Duration) error {
	cd, err := s.load(ctx, cellID)
	if err != nil {
		return err
	}
	if len(oldLeads) == 0 {
		oldLeads = DefaultLeads
	}
	now := s.p.Now()
	ms, err := s.p.Store.Meetings(ctx, cellID, now, now.AddDate(2, 0, 0))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !m.Open() {
			continue
		}
		if err := s.p.Store.UnscheduleDue(ctx, ReminderItems(cd.cell, cd.cell.Quiet, oldLeads, m)...); err != nil {
			return err
		}
		notified, err := s.p.Store.Notified(ctx, cellID, m.ID)
		if err != nil {
			return err
		}
		from := remindersFrom(m, notified, now)
		if err := s.p.Store.ScheduleDue(ctx, reminderItems(cellID, cd.loc, cd.cell.Quiet, cd.leads(), m, from)...); err != nil {
			return err
		}
	}
	s.Wake()
	return nil
}

// Replan starts planning the cell's recurring meeting anew after /schedule or
// /holiday: it plans from now under the schedule's version.
func (s *Scheduler) Replan(ctx context.Context, cellID int64, version int) error {
	// Planned at once, so that the command's reply comes after the next
	// meeting exists; the item does it again (it changes nothing then) and
	// keeps planning.
	if _, err := s.planCell(ctx, cellID, version); err != nil {
		s.log.Warn("scheduler: plan after a schedule change; the loop tries again", "cell", cellID, "err", err)
	}
	if err := s.p.Store.RescheduleDue(ctx, storage.DueItem{Kind: storage.DuePlan, CellID: cellID, Version: version, At: s.p.Now()}); err != nil {
		return err
	}
	s.Wake()
	return nil
}
