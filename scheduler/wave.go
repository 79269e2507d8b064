package scheduler

// Reminder waves. When many cells' reminders fall due together, Telegram's
// overall limit stretches a round of 51,000 messages over half an hour: sent
// from its due time, the last member would get the "2h" reminder an hour and a
// half before the meeting. The planner looks ahead at the reminder items
// waiting in the scheduler and plans each round's messages backwards from its
// due time: spread evenly over the Spread before it (a round is never
// front-loaded), at most Rate messages a second over all rounds, a round that
// does not fit moving earlier. A round whose planned start has come is
// promoted: its item runs now and its messages are queued in the wave, each
// released at its planned time (delivery.Sender.EnqueueWave), and what it
// takes of the rate is reserved (storage.Store.PromoteDue), so that the next
// plan fits around it. The group's counts and the committee's list are posted
// by a second item at the end of the round's window, with the counts of then.
//
// A message planned ahead may meet a changed world at its time: the member
// asked to be excused, the meeting moved or was cancelled. Wanted looks
// before each is sent.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/storage"
)

const (
	// Spread is how long before its due time a round begins when the rate
	// leaves room: its messages are spread over it.
	Spread = 30 * time.Minute
	// WaveMargin is how long before its due time a planned round ends, for the
	// sends that a retry, a reply or a broadcast delays.
	WaveMargin = 15 * time.Second
	// PlanHorizon is how far ahead the planner looks: longer than the longest
	// wave it may have to plan (10,000 cells of 51 take about five hours).
	PlanHorizon = 12 * time.Hour
	// WaveShare is the share of the overall send limit the planner gives
	// reminder waves; the rest, and whatever a wave leaves unused, goes to
	// replies (first), broadcasts and notices.
	WaveShare = 0.97
)

// perRound is what a round sends besides its members' reminders: the group's
// counts and, at the last lead, the committee's list (counted as one).
const perRound = 2

// planWaves plans the reminder rounds due after the next look and promotes
// those whose planned start has come.
func (s *Scheduler) planWaves(ctx context.Context, now time.Time) error {
	// Rounds due sooner than the next look run at their due time as they are:
	// the previous looks promoted what had to start earlier.
	items, err := s.p.Store.DueBetween(ctx, now.Add(s.p.PlanEvery), now.Add(PlanHorizon))
	if err != nil {
		return err
	}
	items = slices.DeleteFunc(items, func(d storage.DueItem) bool { return d.Kind != storage.DueRemind })
	if len(items) == 0 {
		return nil
	}
	cells := make([]int64, 0, len(items))
	for _, d := range items {
		cells = append(cells, d.CellID)
	}
	slices.Sort(cells)
	pcs, err := s.p.Store.PlanCells(ctx, slices.Compact(cells))
	if err != nil {
		return err
	}
	load, err := s.p.Store.WaveLoadFrom(ctx, now)
	if err != nil {
		return err
	}
	// Latest due first, each placed as late as it may go; ties in a fixed
	// order, so that every replica's plan is the same.
	slices.SortFunc(items, func(a, b storage.DueItem) int {
		return cmp.Or(b.At.Compare(a.At), strings.Compare(a.Name(), b.Name()))
	})
	p := newWavePlan(now, s.p.Rate, load)
	for _, d := range items {
		pc := pcs[d.CellID]
		r := p.place(d.At, float64(pc.Members+perRound), quietOf(pc))
		if r.start.After(now.Add(s.p.PlanEvery)) {
			continue
		}
		at := later(r.start, now)
		ok, err := s.p.Store.PromoteDue(ctx, d, at, storage.WavePlan{End: r.end, Taken: r.taken})
		if err != nil {
			return err
		}
		if ok {
			s.log.Info("scheduler: reminder round starts ahead of its due time", "cell", d.CellID, "meeting", d.MeetingID,
				"due", d.At, "from", r.start, "to", r.end)
		}
	}
	return nil
}

// wavePlan is the rate left in each bucket of the look ahead.
type wavePlan struct {
	first int64 // the bucket of now
	left  map[int64]float64
	per   float64 // what a bucket holds
	// below leads from a full bucket towards the next one with room: rounds
	// placed behind thousands of others skip the full buckets at once.
	below map[int64]int64
}

func newWavePlan(now time.Time, rate float64, load storage.WaveLoad) *wavePlan {
	per := rate * storage.WaveBucket.Seconds()
	p := &wavePlan{first: storage.WaveBucketOf(now), per: per, left: make(map[int64]float64, len(load)), below: map[int64]int64{}}
	for b, n := range load {
		p.left[b] = per - n
	}
	return p
}

func (p *wavePlan) room(b int64) float64 {
	if v, ok := p.left[b]; ok {
		return v
	}
	return p.per
}

// free is the latest bucket at or before b with room (below p.first: none).
func (p *wavePlan) free(b int64) int64 {
	at := b
	for at >= p.first && p.room(at) <= 1e-9 {
		if next, ok := p.below[at]; ok {
			at = next
		} else {
			at--
		}
	}
	for b > at { // the full buckets passed now lead straight to at
		next, ok := p.below[b]
		if !ok {
			next = b - 1
		}
		p.below[b] = at
		b = next
	}
	return at
}

// placed is a round's plan: the window its messages are spread over, and what
// it takes of each bucket.
type placed struct {
	start, end time.Time
	taken      storage.WaveLoad
}

// cellQuiet is a cell's quiet hours, for the planner.
type cellQuiet struct {
	hours cell.QuietHours
	loc   *time.Location
}

// quietOf reads a cell's quiet hours; a setting it cannot read is none.
func quietOf(pc storage.PlanCell) cellQuiet {
	q, err := cell.ParseQuiet(pc.Quiet)
	if err != nil {
		q = cell.QuietHours{}
	}
	loc, err := time.LoadLocation(pc.TimeZone)
	if err != nil || pc.TimeZone == "" {
		loc = time.UTC
	}
	return cellQuiet{hours: q, loc: loc}
}

// began is the start of the quiet span t falls in, if it does.
func (q cellQuiet) began(t time.Time) (time.Time, bool) {
	if q.loc == nil {
		return time.Time{}, false
	}
	return q.hours.Began(t.In(q.loc))
}

// place plans n messages due at due: from the bucket WaveMargin before it
// backwards, each bucket within Spread of the due time given at most the
// round's even share and what the rate leaves, each bucket before that as much
// as the rate leaves (a round pushed out of its Spread starts as late as it
// can); what does not fit by now goes now. No bucket in the cell's quiet hours
// is given any: a round that does not fit after them goes on before them, as a
// reminder due in quiet hours goes before they begin.
func (p *wavePlan) place(due time.Time, n float64, quiet cellQuiet) placed {
	end := due.Add(-WaveMargin)
	// The window is whole buckets: a bucket's worth less than Spread keeps
	// its start within Spread of the due time.
	share := n * storage.WaveBucket.Seconds() / (Spread - WaveMargin - storage.WaveBucket).Seconds()
	spreadFrom := storage.WaveBucketOf(due.Add(-Spread)) + 1
	r := placed{taken: storage.WaveLoad{}}
	last := int64(math.MinInt64) // the latest bucket given messages
	b := storage.WaveBucketOf(end)
	for n > 1e-9 {
		if b = p.free(b); b < p.first {
			break
		}
		if began, ok := quiet.began(storage.WaveBucketStart(b)); ok {
			b = storage.WaveBucketOf(began) - 1
			continue
		}
		most := n
		if b >= spreadFrom {
			most = min(share, n)
		}
		take := min(most, max(p.room(b), 0))
		if take > 0 {
			p.left[b] = p.room(b) - take
			r.taken[b] += take
			n -= take
			last = max(last, b)
		}
		b--
	}
	r.start = storage.WaveBucketStart(b + 1)
	if n > 1e-9 { // the rate cannot fit it: the rest goes at once
		r.taken[p.first] += n
		p.left[p.first] = p.room(p.first) - n
		r.start = storage.WaveBucketStart(p.first)
		last = max(last, p.first)
	}
	// The round ends with the last bucket it was given: pushed out of its
	// Spread by later rounds, it ends where they begin.
	r.end = end
	if e := storage.WaveBucketStart(last + 1); e.Before(end) {
		r.end = e
	}
	if r.start.After(r.end) {
		r.start = r.end
	}
	return r
}

// planLoop runs the planner every PlanEvery until ctx ends.
func (s *Scheduler) planLoop(ctx context.Context) {
	t := time.NewTicker(s.p.PlanEvery)
	defer t.Stop()
	for {
		if err := s.planWaves(ctx, s.p.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("scheduler: plan reminder waves", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PlanOnce runs the planner once at the scheduler's clock (tests and
// benchmarks that move time themselves).
func (s *Scheduler) PlanOnce(ctx context.Context) error { return s.planWaves(ctx, s.p.Now()) }

// waveID is the template id of a round's reminders in one language.
func waveID(round, lang string) string { return round + ":" + lang }

// parseWaveID reads the cell, meeting and version back from a reminder
// template's id ("remind:cell:meeting:version:lead:lang").
func parseWaveID(id string) (cellID, meetingID int64, version int, ok bool) {
	f := strings.Split(id, ":")
	if len(f) != 6 || f[0] != "remind" {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	cellID, err1 = strconv.ParseInt(f[1], 10, 64)
	meetingID, err2 = strconv.ParseInt(f[2], 10, 64)
	version, err3 = strconv.Atoi(f[3])
	return cellID, meetingID, version, err1 == nil && err2 == nil && err3 == nil
}

// Wanted says whether a reminder planned ahead is still to be sent
// (delivery.SenderParams.Wanted): not when its meeting was moved, cancelled or
// has begun, nor to a member who has asked to be excused meanwhile. Those not
// sent are counted here, under their outcome. When it cannot tell (Redis
// trouble), it sends.
func (s *Scheduler) Wanted(ctx context.Context, e *storage.QueueEntry) bool {
	cellID, meetingID, version, ok := parseWaveID(e.Template)
	if !ok {
		return true
	}
	m, a, err := s.p.Store.MeetingAnswer(ctx, cellID, meetingID, e.To.MemberID)
	switch {
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		s.log.Warn("scheduler: check a planned reminder", "msg", e.ID, "err", err)
		return true
	case err != nil || m.Version != version || !m.Open():
		s.metrics.reminders.WithLabelValues(OutcomeSuperseded).Inc()
		return false
	case !s.p.Now().Before(m.Start):
		s.metrics.reminders.WithLabelValues(OutcomeDropped).Inc()
		return false
	case a.Kind == cell.Excused:
		s.metrics.reminders.WithLabelValues(OutcomeExcused).Inc()
		return false
	}
	return true
}

// releases gives a round's n reminders their release times, after now: as
// the plan spread them over its buckets (each bucket's share of the round
// evenly within it), none in the cell's quiet hours. Rounds planned alike
// would release their i-th reminders at one instant, a burst the rate then
// pushes past the due time: phase, in [0, 1), sets where in its slot each
// round's reminders fall (see roundPhase).
func releases(n int, now time.Time, plan storage.WavePlan, phase float64, quiet cell.QuietHours, loc *time.Location) []time.Duration {
	out := make([]time.Duration, n)
	buckets := slices.Sorted(maps.Keys(plan.Taken))
	total := 0.0
	for _, b := range buckets {
		total += plan.Taken[b]
	}
	k, before := 0, 0.0 // the bucket at hand, and the messages of those before it
	for i := range n {
		target := (float64(i) + phase) * total / float64(n)
		for k < len(buckets)-1 && before+plan.Taken[buckets[k]] < target {
			before += plan.Taken[buckets[k]]
			k++
		}
		at := plan.End
		if len(buckets) > 0 {
			from := storage.WaveBucketStart(buckets[k])
			to := storage.WaveBucketStart(buckets[k] + 1)
			if to.After(plan.End) {
				to = later(plan.End, from)
			}
			frac := 0.0
			if c := plan.Taken[buckets[k]]; c > 0 {
				frac = min(max((target-before)/c, 0), 1)
			}
			at = from.Add(time.Duration(frac * float64(to.Sub(from))))
		}
		at = later(at, now)
		if until, ok := quiet.Until(at.In(loc)); ok {
			at = until
		}
		out[i] = at.Sub(now)
	}
	return out
}

// roundPhase spreads rounds over [0, 1), the same for a round wherever it is
// planned again.
func roundPhase(id string) float64 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return float64(h.Sum32()%4096) / 4096
}

func roundID(d storage.DueItem, version int) string {
	return fmt.Sprintf("remind:%d:%d:%d:%d", d.CellID, d.MeetingID, version, d.Arg)
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
