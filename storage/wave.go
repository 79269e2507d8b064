package storage

// The wave: reminders planned ahead of their send time, kept compactly until
// they are released into the chats' lanes. When many cells' reminders fall due
// together, a round is queued up to hours before its members get it; a full
// queue entry per member (the rendered text and buttons copied into each)
// would then cost Redis about 2 KB a message. In the wave, the parts are
// stored once per round and language (a template, its chat_id left for the
// sender to fill in), and each member is one entry of a sorted set, scored by
// when it is released: the template's id, the member and the chat. Releasing
// turns an entry into an ordinary urgent message whose parts are read from the
// template when it is claimed; its id is the template's id and the member's,
// so an entry queued again after its release is left alone.
//
// The planner's reservations (AddWaveLoad) sit beside it: how many messages
// the rounds already planned will release in each ten seconds, so that the
// next plan fits around them.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// WaveTemplate is what the messages of one round in one language share.
type WaveTemplate struct {
	ID      string // the round and language; a message's id is ID + ":" + member
	CellID  int64
	Purpose string
	Parts   []json.RawMessage // the requests; the sender sets each one's chat_id
}

// WaveMessage is one member's message of a round, released After the time
// it is queued: a distance, so that the planner's clock and the queue's need
// not be one.
type WaveMessage struct {
	MemberID int64
	ChatID   int64
	After    time.Duration
}

// WaveBucket is the width of the planner's reservations.
const WaveBucket = 10 * time.Second

// waveTemplateTTL is how long a template outlives the last release of its
// round: long enough for the retries of its last message.
const waveTemplateTTL = 24 * time.Hour

// enqueueWaveScript stores a template and adds the members not queued yet.
//
//	KEYS[1] wave
//	ARGV[1] queue key prefix   ARGV[2] now (unix ms; 0: Redis's clock)   ARGV[3] template id
//	ARGV[4] cell   ARGV[5] purpose   ARGV[6] parts (JSON array)   ARGV[7] number of parts
//	ARGV[8] template ttl after the last release (ms)
//	ARGV[9…] 3 per message: member, chat, release (ms after now)
//
// Returns how many were added: a member whose entry is waiting, or whose
// message was released (its hash exists), is left alone.
var enqueueWaveScript = newScript(luaClock + `
local qp, now, tid = ARGV[1], clockms(ARGV[2]), ARGV[3]
local last = now
local added = 0
for i = 9, #ARGV - 2, 3 do
  local at = now + tonumber(ARGV[i+2])
  if at > last then last = at end
  if redis.call('EXISTS', qp .. 'msg:' .. tid .. ':' .. ARGV[i]) == 0 then
    added = added + redis.call('ZADD', KEYS[1], 'NX', at, tid .. '|' .. ARGV[i] .. '|' .. ARGV[i+1])
  end
end
local tk = qp .. 'tpl:' .. tid
redis.call('HSET', tk, 'cell', ARGV[4], 'purpose', ARGV[5], 'parts', ARGV[6], 'n', ARGV[7])
local ttl = last - now + tonumber(ARGV[8])
if redis.call('PTTL', tk) < ttl then redis.call('PEXPIRE', tk, ttl) end
return added
`)

// EnqueueWave stores the round's template and queues its messages to be
// released After now (the zero now: Redis's clock; else the clock ReleaseWave
// is given), in calls of at most QueueBatch messages. It returns how many were
// new.
func (s *Store) EnqueueWave(ctx context.Context, now time.Time, tpl WaveTemplate, msgs []WaveMessage) (int, error) {
	if tpl.ID == "" || len(tpl.Parts) == 0 {
		return 0, fmt.Errorf("storage: enqueue wave %q: a template needs an id and parts", tpl.ID)
	}
	parts, err := json.Marshal(tpl.Parts)
	if err != nil {
		return 0, fmt.Errorf("storage: enqueue wave %s: %w", tpl.ID, err)
	}
	added := 0
	for start := 0; start < len(msgs); start += QueueBatch {
		chunk := msgs[start:min(start+QueueBatch, len(msgs))]
		args := make([]any, 0, 8+3*len(chunk))
		args = append(args, s.keys.queuePrefix(), clockMS(now), tpl.ID, tpl.CellID, tpl.Purpose, string(parts), len(tpl.Parts),
			waveTemplateTTL.Milliseconds())
		for _, m := range chunk {
			args = append(args, m.MemberID, m.ChatID, max(m.After.Milliseconds(), 0))
		}
		n, err := enqueueWaveScript.Run(ctx, s.rdb, []string{s.keys.QueueWave()}, args...).Int()
		if err != nil {
			return added, fmt.Errorf("storage: enqueue wave %s: %w", tpl.ID, err)
		}
		added += n
	}
	return added, nil
}

// releaseWaveScript moves the entries due by now into their chats' urgent lanes.
//
//	KEYS[1] wave   KEYS[2] lanes:0
//	ARGV[1] queue key prefix   ARGV[2] now on the wave's clock (unix ms; 0: Redis's)
//	ARGV[3] at most this many   ARGV[4] now on the queue's clock (unix ms; 0: Redis's)
//
// Returns {entries taken, the unix ms of the next entry or -1}.
var releaseWaveScript = newScript(luaClock + luaLanes + `
local qp, now = ARGV[1], clockms(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local at = clockms(ARGV[4])
for _, w in ipairs(due) do
  redis.call('ZREM', KEYS[1], w)
  local tid, member, chat = string.match(w, '^(.*)|(%-?%d+)|(%-?%d+)$')
  local t = tid and redis.call('HMGET', qp .. 'tpl:' .. tid, 'cell', 'purpose', 'n')
  -- A template gone (it outlived its TTL) leaves nothing to send.
  if t and t[3] then
    local id = tid .. ':' .. member
    local mk = qp .. 'msg:' .. id
    if redis.call('EXISTS', mk) == 0 then
      redis.call('HSET', mk, 'prio', 0, 'nbf', at, 'cell', t[1], 'member', member, 'chat', chat,
        'purpose', t[2], 'tpl', tid, 'n', t[3], 'enq', at, 'attempts', 0, 'state', 'ready')
      redis.call('HINCRBY', qp .. 'count', 0, 1)
      if redis.call('RPUSH', lanekey(qp, chat, 0), id) == 1 and redis.call('EXISTS', qp .. 'busy:' .. chat) == 0 then
        redis.call('ZADD', KEYS[2], at, chat)
      end
    end
  end
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local next = -1
if #nxt > 0 then next = tonumber(nxt[2]) end
return {#due, next}
`)

// ReleaseWave moves at most limit (≤ QueueBatch) wave entries due by now
// into the lanes, where they are due at once, and says how many it took and
// when the next one is due (the zero time when the wave is empty). Call it
// again while it takes limit. The wave's times are on the clock its entries
// were queued by (EnqueueWave); queueNow is the lanes' (the zero time:
// Redis's), which may differ: a sandbox moves its own clock.
func (s *Store) ReleaseWave(ctx context.Context, now, queueNow time.Time, limit int) (int, time.Time, error) {
	if limit <= 0 || limit > QueueBatch {
		limit = QueueBatch
	}
	r, err := releaseWaveScript.Run(ctx, s.rdb, []string{s.keys.QueueWave(), s.keys.QueueReady(0)},
		s.keys.queuePrefix(), clockMS(now), limit, clockMS(queueNow)).Int64Slice()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("storage: release the wave: %w", err)
	}
	if len(r) != 2 {
		return 0, time.Time{}, fmt.Errorf("storage: release the wave: bad reply %v", r)
	}
	var next time.Time
	if r[1] >= 0 {
		next = time.UnixMilli(r[1])
	}
	return int(r[0]), next, nil
}

// WaveDepth is the number of wave entries not released yet.
func (s *Store) WaveDepth(ctx context.Context) (int64, error) {
	n, err := s.rdb.ZCard(ctx, s.keys.QueueWave()).Result()
	if err != nil {
		return 0, fmt.Errorf("storage: wave depth: %w", err)
	}
	return n, nil
}

// WaveLoad is what the planner reserved: messages per WaveBucket, by the
// bucket's number (WaveBucketOf).
type WaveLoad map[int64]float64

// WaveBucketOf is the number of the bucket t falls in.
func WaveBucketOf(t time.Time) int64 { return t.UnixMilli() / WaveBucket.Milliseconds() }

// WaveBucketStart is the start of bucket b.
func WaveBucketStart(b int64) time.Time { return time.UnixMilli(b * WaveBucket.Milliseconds()) }

// promoteScript moves a planned round's item to its release and reserves its
// messages, once: an item already promoted, or no longer waiting, is left alone.
//
//	KEYS[1] due   KEYS[2] the plan   KEYS[3] load
//	ARGV[1] item   ARGV[2] when the item runs (ms)   ARGV[3] the round's plan (JSON, wavePlanJSON)
//	ARGV[4] load ttl (ms)   ARGV[5…] pairs: bucket, messages
//
// Returns 1 when promoted.
var promoteScript = newScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
for i = 5, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[3], ARGV[i], ARGV[i+1]) end
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
`)

// WavePlan is a round the planner moved ahead of its due time: how many of
// its messages each bucket takes. Its window runs from its first bucket's start
// to End.
type WavePlan struct {
	End   time.Time
	Taken WaveLoad
}

type wavePlanJSON struct {
	End   int64       `json:"e"`
	Taken [][2]string `json:"b"` // bucket, messages
}

// PromoteDue moves item d, still waiting, to run at at, records its round's
// plan, and adds what the plan takes to the load. It reports whether it did
// (false: planned before, or no longer waiting).
func (s *Store) PromoteDue(ctx context.Context, d DueItem, at time.Time, plan WavePlan) (bool, error) {
	pj := wavePlanJSON{End: ums(plan.End)}
	args := []any{d.Name(), ums(at), "", (48 * time.Hour).Milliseconds()}
	for b, n := range plan.Taken {
		v := strconv.FormatFloat(n, 'f', 3, 64)
		pj.Taken = append(pj.Taken, [2]string{strconv.FormatInt(b, 10), v})
		args = append(args, b, v)
	}
	data, err := json.Marshal(pj)
	if err != nil {
		return false, fmt.Errorf("storage: promote %s: %w", d.Name(), err)
	}
	args[2] = string(data)
	n, err := promoteScript.Run(ctx, s.rdb, []string{s.keys.SchedDue(), s.keys.SchedPlan(), s.keys.SchedLoad()}, args...).Int()
	if err != nil {
		return false, fmt.Errorf("storage: promote %s: %w", d.Name(), err)
	}
	return n == 1, nil
}

// PlannedRound is the plan PromoteDue recorded for item d; ok is false when
// it was not planned.
func (s *Store) PlannedRound(ctx context.Context, d DueItem) (plan WavePlan, ok bool, err error) {
	v, err := s.rdb.HGet(ctx, s.keys.SchedPlan(), d.Name()).Result()
	if errors.Is(err, redis.Nil) {
		return WavePlan{}, false, nil
	}
	if err != nil {
		return WavePlan{}, false, fmt.Errorf("storage: plan of %s: %w", d.Name(), err)
	}
	var pj wavePlanJSON
	if err := json.Unmarshal([]byte(v), &pj); err != nil {
		return WavePlan{}, false, fmt.Errorf("storage: plan of %s: %w", d.Name(), err)
	}
	plan = WavePlan{End: time.UnixMilli(pj.End), Taken: WaveLoad{}}
	for _, p := range pj.Taken {
		b, err1 := strconv.ParseInt(p[0], 10, 64)
		n, err2 := strconv.ParseFloat(p[1], 64)
		if err1 != nil || err2 != nil {
			return WavePlan{}, false, fmt.Errorf("storage: plan of %s: bad bucket %v", d.Name(), p)
		}
		plan.Taken[b] += n
	}
	return plan, true, nil
}

// ForgetPlan drops item d's plan, once its round is queued.
func (s *Store) ForgetPlan(ctx context.Context, d DueItem) error {
	if err := s.rdb.HDel(ctx, s.keys.SchedPlan(), d.Name()).Err(); err != nil {
		return fmt.Errorf("storage: forget the plan of %s: %w", d.Name(), err)
	}
	return nil
}

// WaveLoadFrom reads the reservations of the buckets from from on; the
// buckets before it are dropped.
func (s *Store) WaveLoadFrom(ctx context.Context, from time.Time) (WaveLoad, error) {
	all, err := s.rdb.HGetAll(ctx, s.keys.SchedLoad()).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: wave load: %w", err)
	}
	first := WaveBucketOf(from)
	out := WaveLoad{}
	var old []string
	for k, v := range all {
		b, err := strconv.ParseInt(k, 10, 64)
		if err != nil || b < first {
			old = append(old, k)
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		out[b] = n
	}
	if len(old) > 0 {
		if err := s.rdb.HDel(ctx, s.keys.SchedLoad(), old...).Err(); err != nil {
			return nil, fmt.Errorf("storage: wave load: %w", err)
		}
	}
	return out, nil
}

// DueBetween lists the waiting items due after from and by to, earliest first.
func (s *Store) DueBetween(ctx context.Context, from, to time.Time) ([]DueItem, error) {
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, s.keys.SchedDue(), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(ums(from), 10), Max: strconv.FormatInt(ums(to), 10)}).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: items due by %v: %w", to, err)
	}
	out := make([]DueItem, 0, len(zs))
	for _, z := range zs {
		name, _ := z.Member.(string)
		d, err := ParseDueItem(name, time.UnixMilli(int64(z.Score)))
		if err != nil {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// PlanCell is what the planner needs of a cell: its size and quiet hours.
type PlanCell struct {
	Members  int
	Quiet    string // as cell.QuietHours.String writes it
	TimeZone string
}

// PlanCells reads, for each cell, its number of members, quiet hours and time
// zone, in one round trip.
func (s *Store) PlanCells(ctx context.Context, cells []int64) (map[int64]PlanCell, error) {
	sizes := make([]*redis.IntCmd, len(cells))
	fields := make([]*redis.SliceCmd, len(cells))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range cells {
			sizes[i] = p.HLen(ctx, s.keys.Members(c))
			fields[i] = p.HMGet(ctx, s.keys.Cell(c), "quiet", "tz")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: cells to plan: %w", err)
	}
	out := make(map[int64]PlanCell, len(cells))
	for i, c := range cells {
		pc := PlanCell{Members: int(sizes[i].Val())}
		if v := fields[i].Val(); len(v) == 2 {
			pc.Quiet, _ = v[0].(string)
			pc.TimeZone, _ = v[1].(string)
		}
		out[c] = pc
	}
	return out, nil
}
