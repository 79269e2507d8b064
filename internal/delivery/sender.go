package delivery

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// SenderParams are what a Sender uses. Store and Caller are required; zero values
// of the rest mean the defaults given.
type SenderParams struct {
	Store  *storage.Store
	Caller telegram.Caller // the Bot API; the Sender keeps the flood limits itself
	Logger *slog.Logger    // nil: discard
	// Registerer gets the delivery metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Workers send concurrently, so that HTTP latency does not lower throughput
	// below the global limit: with an even 30/s, Workers×33 ms must exceed a
	// send's round trip. Default 8.
	Workers int
	// Lease is how long a claimed message is held past its last renewal: the
	// worker renews it every Lease/3 while it waits for a slot or a send is in
	// flight, and right before each send. After a crash, the messages that were
	// in flight are taken over within Lease+RecoverEvery. Default 6 s.
	Lease time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnUnreachable is called once for each message that got a 403 (the member
	// blocked the bot or never opened it); the message is not retried. It is not
	// called for recipients without a MemberID (such as a report's chat). Workers
	// call it concurrently.
	OnUnreachable func(ctx context.Context, to storage.QueueRecipient)
	// Cells, when set, gives the recipients' cells (the Store does): before each
	// bulk message is sent, the sender checks its cell's quiet hours in the cell's
	// time zone, and a recipient in them (a retry, or a queue drained late after
	// downtime) is held until they end. Quiet hours are read again after 30 s, a
	// time zone once per cell. Urgent messages are never held.
	Cells Cells
	// Limits are Telegram's flood limits; zero: storage.DefaultRateLimits, or
	// storage.PaidRateLimits with PaidBroadcast.
	Limits storage.RateLimits
	// PaidBroadcast sends every queued message with allow_paid_broadcast, which
	// Telegram bills and in return takes 1,000 a second.
	PaidBroadcast bool
	// MaxWait is the longest a worker waits for a rate-limit slot; a longer wait
	// (a chat paused by a 429, a busy group) reschedules the message instead.
	// Default 2 s.
	MaxWait time.Duration
	// SendTimeout bounds one Bot API call. Default 10 s.
	SendTimeout time.Duration
	// Grace is how long a send in flight may go on after Run's context ended.
	// Default 5 s.
	Grace time.Duration
	// MaxAttempts is how many network errors or 5xx a message gets before it
	// counts as failed; the waits between grow from 1 s to at most MaxBackoff.
	// Default 10.
	MaxAttempts int
	MaxBackoff  time.Duration // default 5 min
	// RecoverEvery is the period of the recoverer and of the finisher's check.
	// Default 1 s.
	RecoverEvery time.Duration
	// ProgressEvery is the least time between two edits of a job's progress
	// message, across processes. Default 3 s.
	ProgressEvery time.Duration
	// DirectMaxWait is the longest Direct waits for a rate-limit slot; default 3 s.
	DirectMaxWait time.Duration
	// Completed, when set, is called once for each message that ended, with its
	// purpose and result, whichever process ended it: the accounting of what
	// was sent (the scheduler counts reminders by outcome).
	Completed func(ctx context.Context, id, purpose string, result storage.QueueResult)
	// Wanted, when set, is asked before a message released from the wave
	// (EnqueueWave) is sent whether it is still wanted: a round queued ahead
	// of its time may have been answered, moved or cancelled meanwhile. A
	// message no longer wanted completes as storage.ResultSkipped.
	Wanted func(ctx context.Context, e *storage.QueueEntry) bool
	// WaveNow is the clock the wave's times are on: the scheduler's, which
	// plans them (a sandbox moves it). Default time.Now.
	WaveNow func() time.Time
	// ReleaseEvery bounds the wait between two looks at the wave. Default 250 ms.
	ReleaseEvery time.Duration
	// Probe, when set, is called with ProbeSent and the message's id once a
	// part is sent and marked. Tests kill the process there, in the middle of
	// a fan-out.
	Probe func(point, msg string)
}

// ProbeSent is the step after a part was sent and its sent marker written.
const ProbeSent = "delivery:sent"

// DefaultLease is how long a claimed message is held past its last renewal.
const DefaultLease = 6 * time.Second

// Idle workers poll with a delay that doubles from idleMin to idleMax; an enqueue
// through this Sender wakes them at once.
const (
	idleMin = 5 * time.Millisecond
	idleMax = 200 * time.Millisecond
	// maxReportNames bounds the names listed in a report.
	maxReportNames = 300
)

// Sender sends queued messages. Build it with NewSender, start it with Run.
type Sender struct {
	p       SenderParams
	store   *storage.Store
	caller  telegram.Caller
	log     *slog.Logger
	now     func() time.Time
	limits  storage.RateLimits
	metrics *metrics
	direct  *Limited
	quiet   *quietHours // nil: no quiet hours

	process string // random, names this process in lease tokens
	seq     atomic.Uint64
	running atomic.Bool

	wake     signal        // work was enqueued or recovered
	finish   chan struct{} // a job completed (buffer 1)
	release  chan struct{} // the wave got entries (buffer 1)
	progress chan string   // job ids whose progress is due (dropped when full)
}

// NewSender checks the params, fills in defaults and registers the metrics.
func NewSender(p SenderParams) (*Sender, error) {
	if p.Store == nil || p.Caller == nil {
		return nil, errors.New("delivery: NewSender needs a Store and a Caller")
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.WaveNow == nil {
		p.WaveNow = time.Now
	}
	if p.Limits == (storage.RateLimits{}) {
		p.Limits = storage.DefaultRateLimits()
		if p.PaidBroadcast {
			p.Limits = storage.PaidRateLimits()
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if p.Workers <= 0 {
		p.Workers = 8
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 10
	}
	def(&p.Lease, DefaultLease)
	def(&p.MaxWait, 2*time.Second)
	def(&p.SendTimeout, 10*time.Second)
	def(&p.Grace, 5*time.Second)
	def(&p.MaxBackoff, 5*time.Minute)
	def(&p.RecoverEvery, time.Second)
	def(&p.ProgressEvery, 3*time.Second)
	def(&p.DirectMaxWait, 3*time.Second)
	def(&p.ReleaseEvery, 250*time.Millisecond)
	m, err := newMetrics(p.Registerer, p.Store, p.Logger)
	if err != nil {
		return nil, fmt.Errorf("delivery: register metrics: %w", err)
	}
	var id [6]byte
	_, _ = crand.Read(id[:])
	s := &Sender{
		p:        p,
		store:    p.Store,
		caller:   editMarks{next: p.Caller, store: p.Store, log: p.Logger},
		log:      p.Logger,
		now:      p.Now,
		limits:   p.Limits,
		metrics:  m,
		process:  hex.EncodeToString(id[:]),
		wake:     signal{ch: make(chan struct{})},
		finish:   make(chan struct{}, 1),
		release:  make(chan struct{}, 1),
		progress: make(chan string, 64),
	}
	if p.Cells != nil {
		s.quiet = newQuietHours(p.Cells, p.Now, p.Logger)
	}
	s.direct = &Limited{store: p.Store, next: p.Caller, limits: p.Limits, maxWait: p.DirectMaxWait,
		now: p.Now, log: p.Logger, metrics: m}
	return s, nil
}

// Direct returns the Caller for immediate replies and edits: it keeps the same
// flood limits as the queue (see Limited).
func (s *Sender) Direct() telegram.Caller { return s.marked(s.direct) }

// marked puts the edit marks in front of a direct caller: an edit the marks
// tell is the same is not sent, and takes no rate-limit slot.
func (s *Sender) marked(c telegram.Caller) telegram.Caller {
	return editMarks{next: c, store: s.store, log: s.log}
}

// Immediate returns a Caller like Direct that never waits for a rate-limit
// slot: it fails with ErrRateLimited instead, and the caller queues.
func (s *Sender) Immediate() telegram.Caller { return s.marked(s.direct.WithMaxWait(0)) }

// DirectWithin returns a Caller like Direct that waits at most d for a slot.
func (s *Sender) DirectWithin(d time.Duration) telegram.Caller {
	return s.marked(s.direct.WithMaxWait(d))
}

// Enqueue queues messages outside any job and wakes this process's workers. It
// returns how many were new (ids already known are left alone).
func (s *Sender) Enqueue(ctx context.Context, msgs ...Message) (int, error) {
	entries, err := QueueEntries("", msgs)
	if err != nil {
		return 0, err
	}
	n, err := s.store.Enqueue(ctx, redisClock, entries)
	if n > 0 {
		s.wake.notify()
	}
	if err != nil {
		return n, fmt.Errorf("delivery: %w", err)
	}
	return n, nil
}

// StartJob creates the job, its total the number of messages, and queues the
// messages (one per recipient), idempotently: calling it again with the same job
// id neither resets the job nor sends twice; it completes an enqueue that a crash
// interrupted. As recipients complete, the progress message is edited with
// texts.DeliveryProgress; when the last one completes, it is edited a last time
// and a report goes to job.ReportChatID. It returns how many messages were new.
func (s *Sender) StartJob(ctx context.Context, job storage.QueueJob, msgs []Message) (int, error) {
	if job.ID == "" {
		return 0, errors.New("delivery: start job: no id")
	}
	entries, err := QueueEntries(job.ID, msgs)
	if err != nil {
		return 0, fmt.Errorf("delivery: start job %s: %w", job.ID, err)
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if seen[e.ID] {
			return 0, fmt.Errorf("delivery: start job %s: message id %s twice", job.ID, e.ID)
		}
		seen[e.ID] = true
	}
	if _, err := s.store.CreateQueueJob(ctx, redisClock, job, len(entries)); err != nil {
		return 0, fmt.Errorf("delivery: %w", err)
	}
	if job.Progress != "" && job.ReportChatID != 0 {
		// The progress message goes through the queue like the rest; its
		// edits, and the report that ends it, follow it in its chat's lane.
		progress := Message{ID: ProgressID(job.ID), To: storage.QueueRecipient{CellID: job.CellID, ChatID: job.ReportChatID},
			Parts: TextParts(job.ReportChatID, []string{job.Progress}, nil), Purpose: PurposeProgress,
			Priority: storage.PriorityUrgent, Result: ProgressID(job.ID)}
		if _, err := s.Enqueue(ctx, progress); err != nil {
			return 0, fmt.Errorf("delivery: start job %s: %w", job.ID, err)
		}
	}
	if len(entries) == 0 {
		s.kickFinisher()
	}
	n, err := s.store.Enqueue(ctx, redisClock, entries)
	if n > 0 {
		s.wake.notify()
	}
	if err != nil {
		return n, fmt.Errorf("delivery: start job %s: %w", job.ID, err)
	}
	return n, nil
}

// QueueEntries are msgs as the queue stores them, in job jobID ("" for
// none): what Enqueue and StartJob write, for code that writes to the queue
// on a clock of its own (benchmarks in simulated time).
func QueueEntries(jobID string, msgs []Message) ([]storage.QueueEntry, error) {
	out := make([]storage.QueueEntry, 0, len(msgs))
	for _, m := range msgs {
		e := storage.QueueEntry{ID: m.ID, To: m.To, JobID: jobID, Purpose: m.Purpose,
			Priority: m.Priority, NotBefore: m.NotBefore, Result: m.Result, Coalesce: m.Coalesce}
		for i, p := range m.Parts {
			b, err := json.Marshal(p)
			if err != nil {
				return nil, fmt.Errorf("message %s part %d: %w", m.ID, i, err)
			}
			e.Parts = append(e.Parts, b)
		}
		out = append(out, e)
	}
	return out, nil
}

// Run runs the loops until ctx ends, then stops them in the order the package
// comment gives, and returns when all have returned. It may be called once.
func (s *Sender) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("delivery: Sender.Run called twice")
	}
	// The followers outlive the workers: they are stopped only after the last
	// worker returned, so that what it completed is followed up.
	fctx, stopFollowers := context.WithCancel(context.WithoutCancel(ctx))
	var followers, workers sync.WaitGroup
	followers.Go(func() { s.recoverLoop(fctx) })
	followers.Go(func() { s.finishLoop(fctx) })
	followers.Go(func() { s.progressLoop(fctx) })
	followers.Go(func() { s.releaseLoop(fctx) })
	for i := range s.p.Workers {
		workers.Go(func() { s.work(ctx, i) })
	}
	<-ctx.Done()
	workers.Wait()
	stopFollowers()
	followers.Wait()
	return nil
}

// signal wakes every goroutine waiting on it, as a closed channel does.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// redisClock is the zero time: storage then computes leases, rate slots and
// what is due in the queue from Redis's clock (TIME inside its scripts), so
// that replicas whose clocks drift share one clock. This process's
// clock (p.Now) still sets quiet hours, retry delays and latency metrics.
var redisClock time.Time

func (s *Sender) kickFinisher() {
	select {
	case s.finish <- struct{}{}:
	default:
	}
}

// reserve waits until a send to chat conforms to the flood limits and reserves it
// (storage.Store.Reserve), and reports reached. When the wait would exceed
// maxWait, it reserves nothing and returns the wait with reached false. An error
// is Redis's, or ctx's.
func reserve(ctx context.Context, store *storage.Store, now func() time.Time, chat int64, l storage.RateLimits, maxWait time.Duration) (wait time.Duration, reached bool, err error) {
	for {
		wait, ok, err := store.Reserve(ctx, redisClock, chat, l, maxWait)
		if err != nil {
			return 0, false, err
		}
		if !ok && wait > maxWait {
			return wait, false, nil
		}
		if !sleep(ctx, wait) {
			return 0, false, ctx.Err()
		}
		if ok {
			return 0, true, nil
		}
		// The chat's slot was later than the global one: nothing was reserved
		// so as not to hold the global limit; ask again now that it is due.
	}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// work is one sender worker: it claims a due message, sends it and completes it,
// until ctx ends. The message in hand is finished first.
func (s *Sender) work(ctx context.Context, n int) {
	log := s.log.With("worker", n)
	idle := idleMin
	for ctx.Err() == nil {
		wake := s.wake.wait() // before the claim, so that no enqueue is missed
		token := s.process + ":" + strconv.FormatUint(s.seq.Add(1), 36)
		// Not ctx: a claim cut short by shutdown could lease a message and lose
		// the reply, leaving it to wait for the recoverer.
		e, next, err := s.store.Claim(context.WithoutCancel(ctx), redisClock, s.p.Lease, token)
		if err != nil && e == nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("delivery: claim", "err", err)
			sleep(ctx, idleMax)
			continue
		}
		if e == nil {
			d := idle
			idle = min(idle*2, idleMax)
			if !next.IsZero() {
				d = min(d, max(next.Sub(s.now()), 0))
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-wake:
				idle = idleMin
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		idle = idleMin
		s.deliver(ctx, log, e, err)
	}
}

// deliver sends the claimed message's unsent parts and completes it. Redis calls
// use hold, which outlives ctx, so that what was sent is recorded on shutdown.
func (s *Sender) deliver(ctx context.Context, log *slog.Logger, e *storage.QueueEntry, decodeErr error) {
	hold := context.WithoutCancel(ctx)
	log = log.With("msg", e.ID, "job", e.JobID, "purpose", e.Purpose)
	defer s.keepLease(hold, log, e)()
	parts := make([]telegram.Raw, len(e.Parts))
	for i, b := range e.Parts {
		if err := json.Unmarshal(b, &parts[i]); err != nil && decodeErr == nil {
			decodeErr = err
		}
	}
	if decodeErr != nil {
		log.Error("delivery: message cannot be decoded", "err", decodeErr)
		s.complete(hold, log, e, storage.ResultFailed)
		return
	}
	fillTemplate(e, parts)
	if e.Template != "" && e.FirstUnsent == 0 && s.p.Wanted != nil && !s.p.Wanted(hold, e) {
		log.Info("delivery: no longer wanted")
		s.complete(hold, log, e, storage.ResultSkipped)
		return
	}
	if e.Priority == storage.PriorityBulk && s.quiet != nil {
		if until, hold := s.quiet.until(ctx, e.To.CellID); hold {
			log.Info("delivery: held for quiet hours", "until", until)
			s.reschedule(context.WithoutCancel(ctx), log, e, until, false)
			return
		}
	}
	if err := s.resolve(hold, parts, e.Purpose == PurposeReport); err != nil {
		log.Warn("delivery: the message an edit refers to was not sent; the edit is dropped", "err", err)
		s.complete(hold, log, e, storage.ResultFailed)
		return
	}
	for i := e.FirstUnsent; i < len(parts); i++ {
		wait, reached, err := reserve(ctx, s.store, s.now, e.To.ChatID, s.limits, s.p.MaxWait)
		switch {
		case ctx.Err() != nil:
			// Shutting down before the send: give the message back at once.
			s.reschedule(hold, log, e, s.now(), false)
			return
		case err != nil:
			// Redis trouble: leave the lease to expire; the recoverer retries.
			log.Warn("delivery: reserve a send", "err", err)
			sleep(ctx, idleMax)
			return
		case !reached:
			s.metrics.sends.WithLabelValues(resultRateLimited).Inc()
			s.reschedule(hold, log, e, s.now().Add(wait), false)
			return
		}
		// Right before each send, the lease is checked and renewed: a worker that
		// stalled (rate waits, a slow Redis) past its lease must not send what
		// another process may have taken over; a multi-part message may also
		// outlast one lease.
		if err := s.store.ExtendLease(hold, e.ID, e.Token, redisClock, s.p.Lease); err != nil {
			log.Warn("delivery: lease lost before sending; leaving it to its new holder", "err", err)
			return
		}
		var sentID int
		sentID, err = s.send(ctx, parts[i])
		// The Bot API's error codes: 429
		// carries retry_after; 403 is a user who blocked the bot or never opened
		// it; 400 is a request that stays wrong. Only telegram/ reads the texts.
		switch ra, is429 := telegram.RetryAfter(err); {
		case err == nil || telegram.IsNotModified(err):
			// The marker goes right after Telegram accepted the part: from now on
			// no claim or recovery sends it again.
			if err := s.store.MarkSent(hold, e.ID, i, sentID); err != nil {
				log.Error("delivery: mark sent", "part", i, "err", err)
			}
			if s.p.Probe != nil {
				s.p.Probe(ProbeSent, e.ID)
			}
		case is429:
			s.metrics.flood.Inc()
			s.metrics.sends.WithLabelValues(resultRateLimited).Inc()
			global, perr := s.store.PauseChat(hold, redisClock, e.To.ChatID, ra, s.limits)
			if perr != nil {
				log.Warn("delivery: pause after 429", "err", perr)
			}
			log.Info("delivery: 429 from Telegram", "chat", e.To.ChatID, "retry_after", ra, "global_pause", global)
			s.reschedule(hold, log, e, s.now().Add(ra), false)
			return
		case telegram.IsForbidden(err):
			log.Info("delivery: recipient unreachable", "cell", e.To.CellID, "member", e.To.MemberID, "err", err)
			s.complete(hold, log, e, storage.ResultUnreachable)
			return
		case telegram.IsPermanent(err):
			log.Error("delivery: message rejected", "part", i, "method", parts[i].Name, "err", err)
			s.complete(hold, log, e, storage.ResultFailed)
			return
		default: // network error, 5xx, timeout
			if e.Attempts+1 >= s.p.MaxAttempts {
				log.Error("delivery: giving up", "attempts", e.Attempts+1, "err", err)
				s.complete(hold, log, e, storage.ResultFailed)
				return
			}
			s.metrics.sends.WithLabelValues(resultRetry).Inc()
			d := s.backoff(e.Attempts)
			log.Warn("delivery: send failed, will retry", "attempt", e.Attempts+1, "in", d, "err", err)
			// A send cut by our own shutdown is not the message's fault.
			s.reschedule(hold, log, e, s.now().Add(d), ctx.Err() == nil)
			return
		}
	}
	s.metrics.latency.Observe(s.now().Sub(e.Enqueued).Seconds())
	s.complete(hold, log, e, storage.ResultSent)
}

func (s *Sender) completed(ctx context.Context, id, purpose string, result storage.QueueResult) {
	if s.p.Completed != nil {
		s.p.Completed(ctx, id, purpose, result)
	}
}

// keepLease renews the lease of the message in hand every Lease/3 until the
// returned stop is called, so that a short lease outlasts a slow send while a
// process that died loses its messages within one Lease. A lost lease is not
// this goroutine's to act on: the check right before each send is.
func (s *Sender) keepLease(ctx context.Context, log *slog.Logger, e *storage.QueueEntry) (stop func()) {
	hctx, cancel := context.WithCancel(ctx)
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
			err := s.store.ExtendLease(hctx, e.ID, e.Token, redisClock, s.p.Lease)
			if errors.Is(err, storage.ErrLeaseLost) {
				return // completed, deferred, or taken over
			}
			if err != nil && hctx.Err() == nil {
				log.Warn("delivery: renew a lease", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// Ref is a request's message_id that refers to a message queued with
// storage.QueueEntry.Result name: the sender puts in the id Telegram gave it.
// The queue keeps a chat's messages in order, so an edit queued after the
// message it edits finds its id.
func Ref(name string) string { return "@" + name }

// resolve puts the recorded message ids in the parts' references (Ref). An
// edit of a message that was never sent fails, or, with asNew (a report that
// would end a progress message), goes as a message of its own.
func (s *Sender) resolve(ctx context.Context, parts []telegram.Raw, asNew bool) error {
	for i, p := range parts {
		name, ok := strings.CutPrefix(p.Values["message_id"], "@")
		if !ok {
			continue
		}
		id, err := s.store.QueueResult(ctx, name)
		if err != nil {
			return err
		}
		values := maps.Clone(p.Values)
		switch {
		case id != 0:
			values["message_id"] = strconv.Itoa(id)
		case asNew && p.Name == "editMessageText":
			delete(values, "message_id")
			parts[i].Name = "sendMessage"
		default:
			return fmt.Errorf("no message recorded as %s", name)
		}
		parts[i].Values = values
	}
	return nil
}

// send makes one Bot API call, and returns the id of the message it sent (0
// for an edit). After ctx ends the call gets Grace more.
func (s *Sender) send(ctx context.Context, req telegram.Raw) (int, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.p.SendTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(s.p.Grace, cancel)
		<-sctx.Done()
		t.Stop()
	})
	defer stop()
	if !strings.HasPrefix(req.Name, "send") {
		return 0, s.caller.Do(sctx, req, nil)
	}
	if s.p.PaidBroadcast {
		values := maps.Clone(req.Values)
		values["allow_paid_broadcast"] = "true"
		req.Values = values
	}
	var m telegram.Message
	err := s.caller.Do(sctx, req, &m)
	return m.MessageID, err
}

// backoff is the wait before the attempt after the given failed ones: 1 s doubling
// to MaxBackoff, with jitter so that messages failed together do not return
// together.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.p.MaxBackoff
	if attempts < 30 {
		d = min(time.Second<<attempts, s.p.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

func (s *Sender) reschedule(ctx context.Context, log *slog.Logger, e *storage.QueueEntry, at time.Time, countAttempt bool) {
	if _, err := s.store.Defer(ctx, e.ID, e.Token, at, countAttempt); err != nil {
		log.Warn("delivery: reschedule", "err", err)
		return
	}
	if !at.After(s.now()) {
		s.wake.notify()
	}
}

// complete marks the message done and follows up: the hook for a 403, the job's
// progress, the job's end.
func (s *Sender) complete(ctx context.Context, log *slog.Logger, e *storage.QueueEntry, result storage.QueueResult) {
	s.metrics.sends.WithLabelValues(string(result)).Inc()
	d, err := s.store.Done(ctx, redisClock, e.ID, e.Token, result, s.p.ProgressEvery)
	if err != nil {
		// ErrLeaseLost: another worker took the message over and completes it.
		log.Warn("delivery: complete", "result", result, "err", err)
		return
	}
	s.completed(ctx, e.ID, e.Purpose, result)
	if result == storage.ResultUnreachable && s.p.OnUnreachable != nil && e.To.MemberID != 0 {
		s.p.OnUnreachable(ctx, e.To)
	}
	if d.Completed {
		s.kickFinisher()
	}
	if d.ProgressDue {
		select {
		case s.progress <- e.JobID:
		default: // the editor is behind; the next due edit will show newer counts
		}
	}
}
