package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DueKind says what a scheduler item does when it is due.
type DueKind string

// Kinds of scheduler items.
const (
	DuePlan   DueKind = "plan"   // materialise the cell's next recurring meeting (Version: the schedule's)
	DueNotice DueKind = "notice" // send a meeting's notice
	DueRemind DueKind = "remind" // send a meeting's reminder, Arg seconds before it
	// DueRemindPost posts a reminder round's counts to the group and, at the
	// last lead, tells the committee who has not answered.
	DueRemindPost DueKind = "remindpost"
	DueQuarter    DueKind = "quarter" // warn when the quarter Arg (yyyyq) has no topical meeting
	DueGroup      DueKind = "group"   // post a meeting's notice in the group, with its live counts
	// DueCheckin replaces the check-in code and QR of the meeting's open
	// check-in; it comes back every step while check-in is open.
	DueCheckin DueKind = "checkin"
	// DueCheckinEnd ends a check-in nobody closed, and reminds the committee
	// to /close.
	DueCheckinEnd DueKind = "checkinend"
)

// DueItem is one thing the scheduler does at a time: its name says everything it
// needs, so the same item scheduled twice is one item, and a replica that takes it
// over after a crash does the same thing.
type DueItem struct {
	Kind      DueKind
	CellID    int64
	MeetingID int64
	Arg       int64
	Version   int
	At        time.Time // when it is due
}

// Name is the item's member in the due set: "kind:cell:meeting:arg:version".
func (d DueItem) Name() string {
	return fmt.Sprintf("%s:%d:%d:%d:%d", d.Kind, d.CellID, d.MeetingID, d.Arg, d.Version)
}

// ParseDueItem reads a Name back.
func ParseDueItem(name string, at time.Time) (DueItem, error) {
	f := strings.Split(name, ":")
	if len(f) != 5 {
		return DueItem{}, fmt.Errorf("storage: bad scheduler item %q", name)
	}
	d := DueItem{Kind: DueKind(f[0]), At: at}
	var err error
	nums := []*int64{&d.CellID, &d.MeetingID, &d.Arg}
	for i, p := range nums {
		if *p, err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return DueItem{}, fmt.Errorf("storage: bad scheduler item %q", name)
		}
	}
	if d.Version, err = strconv.Atoi(f[4]); err != nil {
		return DueItem{}, fmt.Errorf("storage: bad scheduler item %q", name)
	}
	return d, nil
}

func ums(t time.Time) int64 { return t.UnixMilli() }

// scheduleScript adds items that are not already waiting or leased.
//
// KEYS[1] due ZSET, KEYS[2] leased ZSET
// ARGV: pairs of (due unix ms, name)
// Returns how many were added.
var scheduleScript = newScript(`
local n = 0
for i = 1, #ARGV, 2 do
  local name = ARGV[i+1]
  if not redis.call('ZSCORE', KEYS[2], name) then
    n = n + redis.call('ZADD', KEYS[1], 'NX', ARGV[i], name)
  end
end
return n
`)

// ScheduleDue adds items to the scheduler; an item already waiting or being worked
// on is left as it is, so scheduling again is harmless.
func (s *Store) ScheduleDue(ctx context.Context, items ...DueItem) error {
	for len(items) > 0 {
		batch := items[:min(len(items), 100)]
		items = items[len(batch):]
		args := make([]any, 0, 2*len(batch))
		for _, d := range batch {
			args = append(args, ums(d.At), d.Name())
		}
		if err := scheduleScript.Run(ctx, s.rdb, []string{s.keys.SchedDue(), s.keys.SchedLeased()}, args...).Err(); err != nil {
			return fmt.Errorf("storage: schedule %d items: %w", len(batch), err)
		}
	}
	return nil
}

// RescheduleDue moves an item to a new due time, or adds it.
func (s *Store) RescheduleDue(ctx context.Context, d DueItem) error {
	if err := s.rdb.ZAdd(ctx, s.keys.SchedDue(), redis.Z{Score: float64(ums(d.At)), Member: d.Name()}).Err(); err != nil {
		return fmt.Errorf("storage: reschedule %s: %w", d.Name(), err)
	}
	return nil
}

// UnscheduleDue removes waiting items (a moved or cancelled meeting's reminders).
func (s *Store) UnscheduleDue(ctx context.Context, items ...DueItem) error {
	if len(items) == 0 {
		return nil
	}
	names := make([]string, len(items))
	members := make([]any, len(items))
	for i, d := range items {
		names[i], members[i] = d.Name(), d.Name()
	}
	// A round the planner moved ahead leaves its window behind.
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.keys.SchedDue(), members...)
		p.HDel(ctx, s.keys.SchedPlan(), names...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: unschedule %d items: %w", len(items), err)
	}
	return nil
}

// claimDueScript moves up to ARGV[3] items due by ARGV[1] into the lease set.
//
// KEYS[1] due ZSET, KEYS[2] leased ZSET
// ARGV[1] now unix ms, ARGV[2] lease end unix ms, ARGV[3] limit
// Returns a flat list name, due score, in due order.
var claimDueScript = newScript(`
local got = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #got, 2 do
  redis.call('ZREM', KEYS[1], got[i])
  redis.call('ZADD', KEYS[2], ARGV[2], got[i])
end
return got
`)

// ClaimDue takes up to limit items due by now, earliest first, leasing them for
// lease: another process takes an item over only once the lease has ended
// (RecoverDue). Each item is claimed by one process.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]DueItem, error) {
	res, err := claimDueScript.Run(ctx, s.rdb, []string{s.keys.SchedDue(), s.keys.SchedLeased()},
		ums(now), ums(now.Add(lease)), limit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("storage: claim due items: %w", err)
	}
	out := make([]DueItem, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		ms, _ := strconv.ParseFloat(res[i+1], 64)
		d, err := ParseDueItem(res[i], time.UnixMilli(int64(ms)))
		if err != nil {
			// Not ours to understand: drop it from the lease so it does not come back.
			_ = s.rdb.ZRem(ctx, s.keys.SchedLeased(), res[i]).Err()
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// ackDueScript ends a claimed item: removes its lease, and, when next is given,
// schedules the follow-up in the same step.
//
// KEYS[1] leased ZSET, KEYS[2] due ZSET
// ARGV[1] name, ARGV[2] next due ms or "", ARGV[3] next name
var ackDueScript = newScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) end
return 1
`)

// AckDue ends a claimed item.
func (s *Store) AckDue(ctx context.Context, d DueItem) error {
	if err := ackDueScript.Run(ctx, s.rdb, []string{s.keys.SchedLeased(), s.keys.SchedDue()}, d.Name(), "", "").Err(); err != nil {
		return fmt.Errorf("storage: finish %s: %w", d.Name(), err)
	}
	return nil
}

// AckDueNext ends a claimed item and, in the same step, schedules next: an
// item that comes back (a check-in's next step) is never lost between the two
// nor there twice.
func (s *Store) AckDueNext(ctx context.Context, d, next DueItem) error {
	if err := ackDueScript.Run(ctx, s.rdb, []string{s.keys.SchedLeased(), s.keys.SchedDue()}, d.Name(), ums(next.At), next.Name()).Err(); err != nil {
		return fmt.Errorf("storage: finish %s: %w", d.Name(), err)
	}
	return nil
}

// ExtendDue pushes the leases of claimed items to now+lease while they are
// worked on or wait their turn. An item no longer leased (acknowledged, or
// taken back by RecoverDue) is left alone.
func (s *Store) ExtendDue(ctx context.Context, now time.Time, lease time.Duration, items ...DueItem) error {
	if len(items) == 0 {
		return nil
	}
	zs := make([]redis.Z, len(items))
	for i, d := range items {
		zs[i] = redis.Z{Score: float64(ums(now.Add(lease))), Member: d.Name()}
	}
	if err := s.rdb.ZAddXX(ctx, s.keys.SchedLeased(), zs...).Err(); err != nil {
		return fmt.Errorf("storage: extend the leases of %d items: %w", len(items), err)
	}
	return nil
}

// recoverDueScript puts items whose lease ended back, due at once.
//
// KEYS[1] leased ZSET, KEYS[2] due ZSET
// ARGV[1] now unix ms, ARGV[2] limit
var recoverDueScript = newScript(`
local got = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, name in ipairs(got) do
  redis.call('ZREM', KEYS[1], name)
  redis.call('ZADD', KEYS[2], ARGV[1], name)
end
return #got
`)

// RecoverDue puts back up to limit items whose lease ended by now (their process
// died), and returns how many.
func (s *Store) RecoverDue(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := recoverDueScript.Run(ctx, s.rdb, []string{s.keys.SchedLeased(), s.keys.SchedDue()}, ums(now), limit).Int()
	if err != nil {
		return 0, fmt.Errorf("storage: recover due items: %w", err)
	}
	return n, nil
}

// DueItems returns the waiting items, earliest first (for /settings, tests and
// the sandbox's "to the next reminder").
func (s *Store) DueItems(ctx context.Context, limit int) ([]DueItem, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.keys.SchedDue(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: due items: %w", err)
	}
	out := make([]DueItem, 0, len(zs))
	for _, z := range zs {
		name, _ := z.Member.(string)
		if d, err := ParseDueItem(name, time.UnixMilli(int64(z.Score))); err == nil {
			out = append(out, d)
		}
	}
	return out, nil
}
