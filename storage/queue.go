package storage

// The outbound delivery queue, in asynq's lease pattern (hibiken/asynq's
// internal/rdb): a message is written (Enqueue) before anything is sent, leased when a
// worker claims it (Claim), and completed (Done) after Telegram accepted it; a
// recoverer puts messages whose lease expired back (RecoverLeases).
//
// Each chat has a lane per priority, a list of its messages in the order they
// were enqueued, and at most one message of a chat is in flight at a time (the
// chat's busy key), whichever worker or replica sends it: a chat's messages
// arrive in the order they were queued, as the poller's lanes keep the order of
// what comes in. The ready sets hold chats, not messages: a chat is in the set
// of a priority while that lane has a first message and nothing of the chat is
// in flight, scored by when that message may go. Urgent lanes go first; a bulk
// message held for quiet hours holds only its own lane. Between the send of each part and Done, a sent marker per part
// (MarkSent) records what Telegram accepted; Claim and RecoverLeases check the
// markers atomically, so a crash repeats at most the parts that were in flight.
//
// Times: a method's now is the caller's clock, or the zero time for Redis's own
// (TIME inside the script). Delivery passes the zero time, so that replicas whose
// clocks drift agree on when a lease ends and when a message is due: a lease is
// taken over only when it has really ended, and a message is never sent twice
// for a clock's sake. Tests pass their own times to stay deterministic.
//
// Every key below carries the hash tag {q}. The scripts build the names of the
// per-message and per-job keys from the queue's prefix (ARGV[1]) the way keys.go
// does, as asynq's scripts do: they are not all known before the script runs, and
// keys of one hash tag live in one slot, so this works in Redis Cluster too.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrLeaseLost is returned when a message's lease expired and another worker (or the
// recoverer) took it over; the worker that lost it must leave it alone.
var ErrLeaseLost = errors.New("queue lease lost")

const (
	// QueueRetention is how long a completed message (its id, so that enqueuing it
	// again is a no-op), its sent markers and a completed job are kept.
	QueueRetention = 7 * 24 * time.Hour
	// queueJobTTL bounds the life of a job that never completes (its entries were
	// never all enqueued): long enough for quiet hours and retries.
	queueJobTTL = 30 * 24 * time.Hour
	// QueueBatch bounds the work of one script call: messages enqueued, leases
	// recovered, due entries looked at by one claim.
	QueueBatch = 100
)

// Priorities of queued messages.
const (
	PriorityUrgent = 0 // replies, reports, reminders
	PriorityBulk   = 1 // broadcasts
)

// QueueRecipient is whom a message goes to.
type QueueRecipient struct {
	CellID   int64
	MemberID int64
	ChatID   int64
	Name     string // display name, for the job's report
}

// QueueEntry is one queued message: one recipient, one or more parts sent in order.
type QueueEntry struct {
	ID        string // deterministic, given by the caller: enqueuing an id twice is a no-op
	To        QueueRecipient
	JobID     string // "" for a message outside any job
	Purpose   string // for logs: broadcast, agenda, notice, reminder, report…
	Priority  int    // PriorityUrgent or PriorityBulk
	NotBefore time.Time
	Parts     []json.RawMessage // the requests, opaque to storage
	// Result, when set, names where the message id Telegram gives the first
	// part is recorded once it is sent (QueueResult), whichever process sends
	// it: a later request of the queue may refer to it ("@" and the name as
	// its message_id), or a producer read it.
	Result string
	// Coalesce, when set, makes an edit replace a waiting one: when a message
	// queued with the same key has not gone yet, it takes this one's parts and
	// keeps its place, and this one is not added (the latest text wins).
	Coalesce string

	// Set by Claim.

	// Template is the wave template a released message's parts come from
	// (EnqueueWave): their chat_id is the sender's to set, to To.ChatID.
	Template    string
	Enqueued    time.Time
	Attempts    int    // failed attempts so far (network errors, 5xx)
	FirstUnsent int    // parts before it have their sent marker
	Token       string // the lease's token
}

// QueueResult is how a message ended.
type QueueResult string

// Results of a message.
const (
	ResultSent        QueueResult = "sent"
	ResultUnreachable QueueResult = "unreachable" // 403: blocked, or never opened the bot
	ResultFailed      QueueResult = "failed"      // 400, or retries exhausted
	// ResultSkipped is a planned message that was no longer wanted when its
	// time came (delivery.SenderParams.Wanted).
	ResultSkipped QueueResult = "skipped"
)

// QueueJob is a group of messages with a progress message and a report.
type QueueJob struct {
	ID           string
	CellID       int64
	Purpose      string
	Lang         string
	ReportChatID int64 // where the report goes; 0 for none
	// ProgressMessageID is the message in ReportChatID edited with progress:
	// 0 for none, ProgressQueued when it is the job's Progress message, sent
	// through the queue (its id recorded under the job's progress result).
	ProgressMessageID int
	// Progress, when set, is the text of the progress message, queued to
	// ReportChatID with the job (delivery.Sender.StartJob).
	Progress string
	// Offline names the members the job cannot reach since they have no
	// Telegram, for the report to tell the sender whom to tell in person.
	Offline []string
	// Tag heads every edit of the progress message and the report ("[Chi bộ
	// Khu phố 3] ", HTML) for a sender of several cells; "" for none.
	Tag string
}

// ProgressQueued is the ProgressMessageID of a job whose progress message goes
// through the queue.
const ProgressQueued = -1

// QueueJobCounts are a job's counts.
type QueueJobCounts struct {
	Total, Sent, Unreachable, Failed int
}

// Completed is the number of recipients whose message ended, whatever the result.
func (c QueueJobCounts) Completed() int { return c.Sent + c.Unreachable + c.Failed }

// QueueJobState is a job as stored: its settings, counts and the names behind them.
type QueueJobState struct {
	QueueJob
	QueueJobCounts
	Done             bool
	UnreachableNames []string
	FailedNames      []string
}

// QueueDone is what Done reports about the message's job.
type QueueDone struct {
	QueueJobCounts
	// Completed is true for exactly one call: the one that completed the job's
	// last recipient. The job is then in QueueFinishing.
	Completed bool
	// ProgressDue is true when this process should edit the job's progress
	// message: the throttle was free and the job has one.
	ProgressDue bool
}

func qms(t time.Time) int64 { return t.UnixMilli() }

// clockMS is a script's now argument: 0 for Redis's clock (see luaClock).
func clockMS(now time.Time) int64 {
	if now.IsZero() {
		return 0
	}
	return now.UnixMilli()
}

// luaClock defines clockms(v): the caller's now (unix ms) when v is not 0, else
// Redis's. TIME may be called in scripts since Redis 5 (effects replication).
const luaClock = `
local function clockms(v)
  v = tonumber(v) or 0
  if v ~= 0 then return v end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

func (k Keys) queuePrefix() string { return k.queue() + ":" }

// luaLanes is shared by the scripts that move a chat's lanes. offer puts the
// chat in the ready set of a priority at its lane's first message's time (not
// before at), when that lane has one; free ends the chat's message in flight id
// and offers both lanes; pop takes a completed id out of its lane, then frees
// the chat.
const luaLanes = `
local function lanekey(qp, chat, p) return qp .. 'lane:' .. chat .. ':' .. p end
local function offer(qp, chat, p, at)
  local head = redis.call('LINDEX', lanekey(qp, chat, p), 0)
  if not head then return end
  local nbf = tonumber(redis.call('HGET', qp .. 'msg:' .. head, 'nbf')) or 0
  if at and at > nbf then nbf = at end
  redis.call('ZADD', qp .. 'lanes:' .. p, nbf, chat)
end
local function free(qp, chat, id)
  local b = qp .. 'busy:' .. chat
  if redis.call('GET', b) == id then redis.call('DEL', b) end
  if redis.call('EXISTS', b) == 0 then
    offer(qp, chat, 0)
    offer(qp, chat, 1)
  end
end
local function pop(qp, chat, p, id)
  if redis.call('LREM', lanekey(qp, chat, p), 1, id) > 0 then
    redis.call('HINCRBY', qp .. 'count', p, -1)
  end
  free(qp, chat, id)
end
`

// luaComplete is shared by the scripts that complete a message. firstunsent finds
// the first part without its sent marker; complete marks a message done with a
// result, counts it for its job and, when that was the job's last recipient, marks
// the job done and puts it in the finishing set. complete returns {total, sent,
// unreachable, failed, completed (0|1)}.
const luaComplete = `
local function firstunsent(qp, id, n)
  for i = 0, n - 1 do
    if redis.call('EXISTS', qp .. 'sent:' .. id .. ':' .. i) == 0 then return i end
  end
  return n
end

local function complete(qp, id, result, now, donettl, jobttl)
  local mk = qp .. 'msg:' .. id
  local job = redis.call('HGET', mk, 'job')
  local res = redis.call('HGET', mk, 'result')
  if res and res ~= '' then
    local v = redis.call('GET', qp .. 'sent:' .. id .. ':0')
    if v and v ~= '1' then redis.call('SET', qp .. 'result:' .. res, v, 'PX', donettl) end
  end
  redis.call('HSET', mk, 'state', 'done', 'result', result, 'doneAt', now)
  redis.call('HDEL', mk, 'parts', 'token')
  redis.call('PEXPIRE', mk, donettl)
  if not job or job == '' then return {0, 0, 0, 0, 0} end
  local jk = qp .. 'job:' .. job
  if redis.call('EXISTS', jk) == 0 then return {0, 0, 0, 0, 0} end
  redis.call('HINCRBY', jk, result, 1)
  if result ~= 'sent' then
    local lk = jk .. ':' .. result
    redis.call('RPUSH', lk, redis.call('HGET', mk, 'name') or '')
    redis.call('PEXPIRE', lk, jobttl)
  end
  local v = redis.call('HMGET', jk, 'total', 'sent', 'unreachable', 'failed', 'done')
  local total, s, u, f = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0
  local completed = 0
  if v[5] ~= '1' and s + u + f >= total then
    redis.call('HSET', jk, 'done', '1', 'doneAt', now)
    redis.call('ZADD', qp .. 'finishing', now, job)
    completed = 1
  end
  return {total, s, u, f, completed}
end
`

// enqueueScript adds messages that are not known yet.
//
//	KEYS[1] ready:0   KEYS[2] ready:1
//	ARGV[1] queue key prefix   ARGV[2] now (unix ms; 0: Redis's clock)
//	ARGV[3…] 13 per message: id, priority (0|1), not before (unix ms; now when earlier), job, cell,
//	         member, chat, name, purpose, parts (JSON array), number of parts, result, coalesce key
//
// Returns the number of messages added. An id that is waiting, in flight, or was
// completed within QueueRetention is left alone, so that an update handled twice
// does not send twice. A message with a coalesce key whose last message has not
// gone yet replaces that one's parts instead of being added.
var enqueueScript = newScript(luaClock + luaLanes + `
local qp, now = ARGV[1], clockms(ARGV[2])
local added = 0
for i = 3, #ARGV - 1, 13 do
  local id = ARGV[i]
  local mk = qp .. 'msg:' .. id
  local co = ARGV[i+12]
  local waiting = nil
  if co ~= '' then
    waiting = redis.call('GET', qp .. 'co:' .. co)
    if waiting and redis.call('HGET', qp .. 'msg:' .. waiting, 'state') ~= 'ready' then waiting = nil end
  end
  if waiting then
    redis.call('HSET', qp .. 'msg:' .. waiting, 'parts', ARGV[i+9], 'n', ARGV[i+10], 'purpose', ARGV[i+8])
  elseif redis.call('EXISTS', mk) == 0 then
    local nbf = math.max(tonumber(ARGV[i+2]), now)
    local p, chat = ARGV[i+1], ARGV[i+6]
    redis.call('HSET', mk, 'prio', p, 'nbf', nbf, 'job', ARGV[i+3],
      'cell', ARGV[i+4], 'member', ARGV[i+5], 'chat', chat, 'name', ARGV[i+7],
      'purpose', ARGV[i+8], 'parts', ARGV[i+9], 'n', ARGV[i+10],
      'enq', now, 'attempts', 0, 'state', 'ready', 'result', ARGV[i+11], 'co', co)
    if co ~= '' then redis.call('SET', qp .. 'co:' .. co, id, 'PX', ARGV[#ARGV]) end
    redis.call('HINCRBY', qp .. 'count', p, 1)
    if redis.call('RPUSH', lanekey(qp, chat, p), id) == 1 and redis.call('EXISTS', qp .. 'busy:' .. chat) == 0 then
      redis.call('ZADD', qp .. 'lanes:' .. p, nbf, chat)
    end
    added = added + 1
  end
end
return added
`)

// Enqueue writes messages to the queue, in calls of at most QueueBatch messages.
// It returns how many were new.
func (s *Store) Enqueue(ctx context.Context, now time.Time, entries []QueueEntry) (int, error) {
	added := 0
	for start := 0; start < len(entries); start += QueueBatch {
		chunk := entries[start:min(start+QueueBatch, len(entries))]
		args := make([]any, 0, 3+13*len(chunk))
		args = append(args, s.keys.queuePrefix(), clockMS(now))
		for _, e := range chunk {
			if e.ID == "" || len(e.Parts) == 0 {
				return added, fmt.Errorf("storage: enqueue %q: a message needs an id and parts", e.ID)
			}
			if e.Priority != PriorityUrgent && e.Priority != PriorityBulk {
				return added, fmt.Errorf("storage: enqueue %s: priority %d", e.ID, e.Priority)
			}
			parts, err := json.Marshal(e.Parts)
			if err != nil {
				return added, fmt.Errorf("storage: enqueue %s: %w", e.ID, err)
			}
			var nbf int64 // the script takes the later of it and now
			if !e.NotBefore.IsZero() {
				nbf = qms(e.NotBefore)
			}
			args = append(args, e.ID, e.Priority, nbf, e.JobID, e.To.CellID, e.To.MemberID,
				e.To.ChatID, e.To.Name, e.Purpose, string(parts), len(e.Parts), e.Result, e.Coalesce)
		}
		args = append(args, QueueRetention.Milliseconds()) // how long a coalesce key lasts
		n, err := enqueueScript.Run(ctx, s.rdb, []string{s.keys.QueueReady(0), s.keys.QueueReady(1)}, args...).Int()
		if err != nil {
			return added, fmt.Errorf("storage: enqueue %d messages: %w", len(chunk), err)
		}
		added += n
	}
	return added, nil
}

// createJobScript creates a job unless it exists.
//
//	KEYS[1] job   KEYS[2] finishing
//	ARGV[1] job id   ARGV[2] total   ARGV[3] now (unix ms; 0: Redis's clock)   ARGV[4] cell
//	ARGV[5] purpose   ARGV[6] lang   ARGV[7] report chat   ARGV[8] progress message
//	ARGV[9] ttl (ms)   ARGV[10] offline names as a JSON list, or ""
//
// Returns 1 when created, 0 when the job existed (its total is kept). A job of no
// recipients is complete at once.
var createJobScript = newScript(luaClock + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = clockms(ARGV[3])
redis.call('HSET', KEYS[1], 'total', ARGV[2], 'sent', 0, 'unreachable', 0, 'failed', 0,
  'created', now, 'cell', ARGV[4], 'purpose', ARGV[5], 'lang', ARGV[6],
  'rchat', ARGV[7], 'pmsg', ARGV[8], 'done', 0)
if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'offline', ARGV[10]) end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'tag', ARGV[11]) end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
if tonumber(ARGV[2]) == 0 then
  redis.call('HSET', KEYS[1], 'done', 1, 'doneAt', now)
  redis.call('ZADD', KEYS[2], now, ARGV[1])
end
return 1
`)

// CreateQueueJob creates a job of total recipients, unless it exists.
func (s *Store) CreateQueueJob(ctx context.Context, now time.Time, job QueueJob, total int) (bool, error) {
	offline := ""
	if len(job.Offline) > 0 {
		b, err := json.Marshal(job.Offline)
		if err != nil {
			return false, fmt.Errorf("storage: create job %s: %w", job.ID, err)
		}
		offline = string(b)
	}
	if job.Progress != "" {
		job.ProgressMessageID = ProgressQueued
	}
	n, err := createJobScript.Run(ctx, s.rdb, []string{s.keys.QueueJob(job.ID), s.keys.QueueFinishing()},
		job.ID, total, clockMS(now), job.CellID, job.Purpose, job.Lang, job.ReportChatID, job.ProgressMessageID,
		queueJobTTL.Milliseconds(), offline, job.Tag).Int()
	if err != nil {
		return false, fmt.Errorf("storage: create job %s: %w", job.ID, err)
	}
	return n == 1, nil
}

// claimScript leases the first due message, urgent before bulk.
//
//	KEYS[1] ready:0   KEYS[2] ready:1   KEYS[3] leased
//	ARGV[1] queue key prefix   ARGV[2] now (unix ms; 0: Redis's clock)
//	ARGV[3] lease (ms): it ends that long after now   ARGV[4] lease token   ARGV[5] due ids to look at, at most
//	ARGV[6] retention of done messages (ms)   ARGV[7] job ttl (ms)
//
// Returns {id, first unsent part, field, value, …} with the message's hash, or
// {"", next}: next is the unix ms of the earliest waiting message, now when the look
// limit was reached, or -1 for an empty queue. A due message whose parts all have
// their sent marker (its worker died after sending) is completed as sent, not
// leased; an id without its hash is dropped.
var claimScript = newScript(luaClock + luaLanes + luaComplete + `
local qp, now, limit = ARGV[1], clockms(ARGV[2]), tonumber(ARGV[5])
local lease = tonumber(ARGV[3])
local looked = 0
for p = 1, 2 do
  local prio = tostring(p - 1)
  while looked < limit do
    local chats = redis.call('ZRANGEBYSCORE', KEYS[p], '-inf', now, 'LIMIT', 0, 1)
    if #chats == 0 then break end
    local chat = chats[1]
    looked = looked + 1
    redis.call('ZREM', KEYS[p], chat)
    -- A chat with a message in flight waits: freeing it offers its lanes again.
    if redis.call('EXISTS', qp .. 'busy:' .. chat) == 0 then
      local id = redis.call('LINDEX', lanekey(qp, chat, prio), 0)
      if id then
        local mk = qp .. 'msg:' .. id
        local st = redis.call('HMGET', mk, 'n', 'state')
        local n = tonumber(st[1])
        if not n or st[2] == 'done' then
          pop(qp, chat, prio, id)
        else
          local first = firstunsent(qp, id, n)
          if first >= n then
            complete(qp, id, 'sent', now, ARGV[6], ARGV[7])
            pop(qp, chat, prio, id)
          else
            redis.call('ZADD', KEYS[3], now + lease, id)
            redis.call('HSET', mk, 'state', 'leased', 'token', ARGV[4])
            -- Gone from the waiting ones: a later edit is a message of its own.
            local co = redis.call('HGET', mk, 'co')
            if co and co ~= '' and redis.call('GET', qp .. 'co:' .. co) == id then redis.call('DEL', qp .. 'co:' .. co) end
            redis.call('SET', qp .. 'busy:' .. chat, id, 'PX', lease)
            local out = {id, first}
            local f = redis.call('HGETALL', mk)
            for j = 1, #f do out[#out + 1] = f[j] end
            -- A message released from the wave shares its round's parts.
            local tpl = redis.call('HGET', mk, 'tpl')
            if tpl then
              out[#out + 1] = 'parts'
              out[#out + 1] = redis.call('HGET', qp .. 'tpl:' .. tpl, 'parts') or ''
            end
            return out
          end
        end
      end
    end
  end
end
if looked >= limit then return {'', now} end
local nxt = -1
for p = 1, 2 do
  local z = redis.call('ZRANGE', KEYS[p], 0, 0, 'WITHSCORES')
  if #z > 0 and (nxt < 0 or tonumber(z[2]) < nxt) then nxt = tonumber(z[2]) end
end
return {'', nxt}
`)

// Claim leases the first due message until now+lease under token (the zero now:
// Redis's clock). When none is due it returns nil and when the next one will be
// (the zero time for an empty queue).
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, token string) (*QueueEntry, time.Time, error) {
	res, err := claimScript.Run(ctx, s.rdb,
		[]string{s.keys.QueueReady(0), s.keys.QueueReady(1), s.keys.QueueLeased()},
		s.keys.queuePrefix(), clockMS(now), max(lease.Milliseconds(), 1), token, QueueBatch,
		QueueRetention.Milliseconds(), queueJobTTL.Milliseconds()).Slice()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("storage: claim: %w", err)
	}
	if len(res) < 2 {
		return nil, time.Time{}, fmt.Errorf("storage: claim: bad reply %v", res)
	}
	id, _ := res[0].(string)
	if id == "" {
		next, _ := res[1].(int64)
		if next < 0 {
			return nil, time.Time{}, nil
		}
		return nil, time.UnixMilli(next), nil
	}
	first, _ := res[1].(int64)
	f := make(map[string]string, (len(res)-2)/2)
	for i := 2; i+1 < len(res); i += 2 {
		k, _ := res[i].(string)
		v, _ := res[i+1].(string)
		f[k] = v
	}
	e := &QueueEntry{
		ID:          id,
		Result:      f["result"],
		Coalesce:    f["co"],
		Template:    f["tpl"],
		JobID:       f["job"],
		Purpose:     f["purpose"],
		Priority:    qAtoi(f["prio"]),
		NotBefore:   time.UnixMilli(qAtoi64(f["nbf"])),
		Enqueued:    time.UnixMilli(qAtoi64(f["enq"])),
		Attempts:    qAtoi(f["attempts"]),
		FirstUnsent: int(first),
		Token:       token,
		To: QueueRecipient{
			CellID:   qAtoi64(f["cell"]),
			MemberID: qAtoi64(f["member"]),
			ChatID:   qAtoi64(f["chat"]),
			Name:     f["name"],
		},
	}
	if err := json.Unmarshal([]byte(f["parts"]), &e.Parts); err != nil {
		return e, time.Time{}, fmt.Errorf("storage: claim %s: parts: %w", id, err)
	}
	return e, time.Time{}, nil
}

func qAtoi64(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
func qAtoi(s string) int     { return int(qAtoi64(s)) }

// MarkSent records that Telegram accepted part of message id, with the message
// id Telegram gave it (0 for an edit: the marker then holds 1). It is a plain
// SET: it must happen right after the send, whatever became of the lease.
func (s *Store) MarkSent(ctx context.Context, id string, part int, messageID int) error {
	v := 1
	if messageID > 1 {
		v = messageID
	}
	if err := s.rdb.Set(ctx, s.keys.QueueSent(id+":"+strconv.Itoa(part)), v, QueueRetention).Err(); err != nil {
		return fmt.Errorf("storage: mark %s part %d sent: %w", id, part, err)
	}
	return nil
}

// QueueResult is the message id recorded under name (QueueEntry.Result), or 0
// while the message has not been sent.
func (s *Store) QueueResult(ctx context.Context, name string) (int, error) {
	v, err := s.rdb.Get(ctx, s.keys.QueueResult(name)).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: result %s: %w", name, err)
	}
	return v, nil
}

// extendScript renews a lease held by token.
//
//	KEYS[1] leased ZSET   KEYS[2] the message HASH
//	ARGV[1] id   ARGV[2] token   ARGV[3] now (unix ms; 0: Redis's clock)
//	ARGV[4] lease (ms) from now
//
// Returns 1, or 0 when the lease is lost: another token holds the message, or the
// recoverer gave it back to the ready set (the token is then stale but equal).
var extendScript = newScript(luaClock + `
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[2] then return 0 end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', clockms(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
local b = ARGV[5] .. 'busy:' .. (redis.call('HGET', KEYS[2], 'chat') or '')
if redis.call('GET', b) == ARGV[1] then redis.call('PEXPIRE', b, ARGV[4]) end
return 1
`)

// ExtendLease moves the end of the lease of message id to now+lease (the zero
// now: Redis's clock); ErrLeaseLost when this holder no longer has it.
func (s *Store) ExtendLease(ctx context.Context, id, token string, now time.Time, lease time.Duration) error {
	n, err := extendScript.Run(ctx, s.rdb, []string{s.keys.QueueLeased(), s.keys.QueueMsg(id)}, id, token,
		clockMS(now), max(lease.Milliseconds(), 1), s.keys.queuePrefix()).Int()
	if err != nil {
		return fmt.Errorf("storage: extend lease of %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("storage: extend lease of %s: %w", id, ErrLeaseLost)
	}
	return nil
}

// deferScript puts a leased message back, to be sent at a later time.
//
//	KEYS[1] leased   KEYS[2] ready:0   KEYS[3] ready:1   KEYS[4] the message
//	ARGV[1] id   ARGV[2] token   ARGV[3] not before (unix ms)   ARGV[4] 1 to count an attempt
//
// Returns the attempts so far, or -1 when the lease was lost.
var deferScript = newScript(luaLanes + `
if redis.call('HGET', KEYS[4], 'token') ~= ARGV[2] then return -1 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[4], 'state', 'ready', 'nbf', ARGV[3])
redis.call('HDEL', KEYS[4], 'token')
free(ARGV[5], redis.call('HGET', KEYS[4], 'chat') or '', ARGV[1])
if ARGV[4] == '1' then return redis.call('HINCRBY', KEYS[4], 'attempts', 1) end
return tonumber(redis.call('HGET', KEYS[4], 'attempts')) or 0
`)

// Defer gives back the lease of message id, to be claimed again at or after at.
// With countAttempt (a network error or 5xx) the attempt is counted; a rate limit
// or a 429 is not a failed attempt. It returns the attempts so far.
func (s *Store) Defer(ctx context.Context, id, token string, at time.Time, countAttempt bool) (int, error) {
	count := 0
	if countAttempt {
		count = 1
	}
	n, err := deferScript.Run(ctx, s.rdb,
		[]string{s.keys.QueueLeased(), s.keys.QueueReady(0), s.keys.QueueReady(1), s.keys.QueueMsg(id)},
		id, token, qms(at), count, s.keys.queuePrefix()).Int()
	if err != nil {
		return 0, fmt.Errorf("storage: defer %s: %w", id, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("storage: defer %s: %w", id, ErrLeaseLost)
	}
	return n, nil
}

// doneScript completes a leased message and counts it for its job.
//
//	KEYS[1] leased
//	ARGV[1] queue key prefix   ARGV[2] now (unix ms; 0: Redis's clock)   ARGV[3] id   ARGV[4] token
//	ARGV[5] result (sent|unreachable|failed)   ARGV[6] retention of done messages (ms)
//	ARGV[7] job ttl (ms)   ARGV[8] progress throttle (ms)
//
// Returns {-1} when the lease was lost, else {total, sent, unreachable, failed,
// completed (1 for the call that completed the job), progress due (1 when the
// caller won the job's progress throttle)}.
var doneScript = newScript(luaClock + luaLanes + luaComplete + `
local qp, id = ARGV[1], ARGV[3]
local mk = qp .. 'msg:' .. id
if redis.call('HGET', mk, 'token') ~= ARGV[4] then return {-1} end
redis.call('ZREM', KEYS[1], id)
local job = redis.call('HGET', mk, 'job')
local lane = redis.call('HMGET', mk, 'chat', 'prio')
local r = complete(qp, id, ARGV[5], clockms(ARGV[2]), ARGV[6], ARGV[7])
pop(qp, lane[1] or '', lane[2] or '0', id)
r[6] = 0
if r[5] == 0 and r[1] > 0 then
  local jk = qp .. 'job:' .. job
  local pm = redis.call('HGET', jk, 'pmsg')
  if pm and pm ~= '0' and pm ~= '' and redis.call('SET', jk .. ':progress', 1, 'NX', 'PX', ARGV[8]) then
    r[6] = 1
  end
end
return r
`)

// Done completes the leased message id with a result. The job's counts go up in
// the same script; see QueueDone. progressEvery throttles progress edits per job.
func (s *Store) Done(ctx context.Context, now time.Time, id, token string, result QueueResult, progressEvery time.Duration) (QueueDone, error) {
	r, err := doneScript.Run(ctx, s.rdb, []string{s.keys.QueueLeased()},
		s.keys.queuePrefix(), clockMS(now), id, token, string(result),
		QueueRetention.Milliseconds(), queueJobTTL.Milliseconds(), max(progressEvery.Milliseconds(), 1)).Int64Slice()
	if err != nil {
		return QueueDone{}, fmt.Errorf("storage: complete %s as %s: %w", id, result, err)
	}
	if len(r) == 1 && r[0] == -1 {
		return QueueDone{}, fmt.Errorf("storage: complete %s as %s: %w", id, result, ErrLeaseLost)
	}
	if len(r) < 6 {
		return QueueDone{}, fmt.Errorf("storage: complete %s: bad reply %v", id, r)
	}
	return QueueDone{
		QueueJobCounts: QueueJobCounts{Total: int(r[0]), Sent: int(r[1]), Unreachable: int(r[2]), Failed: int(r[3])},
		Completed:      r[4] == 1,
		ProgressDue:    r[5] == 1,
	}, nil
}

// recoverScript puts messages whose lease expired back in their ready set.
//
//	KEYS[1] leased   KEYS[2] ready:0   KEYS[3] ready:1
//	ARGV[1] queue key prefix   ARGV[2] now (unix ms; 0: Redis's clock)   ARGV[3] at most this many
//	ARGV[4] retention of done messages (ms)   ARGV[5] job ttl (ms)
//
// Returns {requeued, id and purpose of each completed message…}: a message whose parts
// all have their sent marker (its worker died between the last send and Done) is
// completed as sent instead of being sent again.
var recoverScript = newScript(luaClock + luaLanes + luaComplete + `
local qp, now = ARGV[1], clockms(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {0}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local mk = qp .. 'msg:' .. id
  local st = redis.call('HMGET', mk, 'n', 'prio', 'state', 'purpose', 'chat')
  local n = tonumber(st[1])
  if n and st[3] ~= 'done' then
    if firstunsent(qp, id, n) >= n then
      complete(qp, id, 'sent', now, ARGV[4], ARGV[5])
      pop(qp, st[5] or '', st[2] or '0', id)
      out[#out + 1] = id
      out[#out + 1] = st[4] or ''
    else
      redis.call('HSET', mk, 'state', 'ready')
      redis.call('HDEL', mk, 'token')
      -- A message leased before the queue had lanes joins the front of its
      -- lane: it was due already.
      local lk = lanekey(qp, st[5] or '', st[2] or '0')
      if not redis.call('LPOS', lk, id) then
        redis.call('LPUSH', lk, id)
        redis.call('HINCRBY', qp .. 'count', st[2] or '0', 1)
      end
      free(qp, st[5] or '', id)
      out[1] = out[1] + 1
    end
  end
end
return out
`)

// QueueCompleted is a message the recoverer completed as sent.
type QueueCompleted struct{ ID, Purpose string }

// RecoverLeases moves at most limit (≤ QueueBatch) messages whose lease ended
// before now (the zero now: Redis's clock) back to ready, or completes them as
// sent when all their parts were sent (completed). Call it again while it
// returns limit messages.
func (s *Store) RecoverLeases(ctx context.Context, now time.Time, limit int) (requeued int, completed []QueueCompleted, err error) {
	if limit <= 0 || limit > QueueBatch {
		limit = QueueBatch
	}
	r, err := recoverScript.Run(ctx, s.rdb,
		[]string{s.keys.QueueLeased(), s.keys.QueueReady(0), s.keys.QueueReady(1)},
		s.keys.queuePrefix(), clockMS(now), limit, QueueRetention.Milliseconds(), queueJobTTL.Milliseconds()).Slice()
	if err != nil {
		return 0, nil, fmt.Errorf("storage: recover leases: %w", err)
	}
	if len(r) < 1 {
		return 0, nil, fmt.Errorf("storage: recover leases: bad reply %v", r)
	}
	n, _ := r[0].(int64)
	for i := 1; i+1 < len(r); i += 2 {
		id, _ := r[i].(string)
		purpose, _ := r[i+1].(string)
		completed = append(completed, QueueCompleted{ID: id, Purpose: purpose})
	}
	return int(n), completed, nil
}

// claimFinishingScript takes completed jobs whose report is to be enqueued.
//
//	KEYS[1] finishing
//	ARGV[1] now (unix ms; 0: Redis's clock)   ARGV[2] lease (ms)   ARGV[3] at most this many
//
// Returns the job ids; each one's score moves to the lease's end, so that another
// process takes it only when this one died before ReleaseFinishedJob.
var claimFinishingScript = newScript(luaClock + `
local now = clockms(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id) end
return ids
`)

// ClaimFinishedJobs leases at most limit completed jobs whose final edit and report
// are still to be enqueued.
func (s *Store) ClaimFinishedJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]string, error) {
	if limit <= 0 || limit > QueueBatch {
		limit = QueueBatch
	}
	ids, err := claimFinishingScript.Run(ctx, s.rdb, []string{s.keys.QueueFinishing()},
		clockMS(now), max(lease.Milliseconds(), 1), limit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("storage: claim finished jobs: %w", err)
	}
	return ids, nil
}

// ReleaseFinishedJob removes a job from the finishing set once its report is
// enqueued, and lets the job's keys expire after QueueRetention.
func (s *Store) ReleaseFinishedJob(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.keys.QueueFinishing(), id)
		for _, k := range []string{s.keys.QueueJob(id), s.keys.QueueJobUnreachable(id), s.keys.QueueJobFailed(id)} {
			p.PExpire(ctx, k, QueueRetention)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: release finished job %s: %w", id, err)
	}
	return nil
}

// QueueJobState reads a job, with at most maxNames names of each list (none for 0).
func (s *Store) QueueJobState(ctx context.Context, id string, maxNames int) (QueueJobState, error) {
	var (
		h    *redis.MapStringStringCmd
		u, f *redis.StringSliceCmd
	)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		h = p.HGetAll(ctx, s.keys.QueueJob(id))
		if maxNames > 0 {
			u = p.LRange(ctx, s.keys.QueueJobUnreachable(id), 0, int64(maxNames)-1)
			f = p.LRange(ctx, s.keys.QueueJobFailed(id), 0, int64(maxNames)-1)
		}
		return nil
	})
	if err != nil {
		return QueueJobState{}, fmt.Errorf("storage: read job %s: %w", id, err)
	}
	m := h.Val()
	if len(m) == 0 {
		return QueueJobState{}, fmt.Errorf("storage: read job %s: %w", id, ErrNotFound)
	}
	st := QueueJobState{
		QueueJob: QueueJob{
			ID:                id,
			CellID:            qAtoi64(m["cell"]),
			Purpose:           m["purpose"],
			Lang:              m["lang"],
			ReportChatID:      qAtoi64(m["rchat"]),
			ProgressMessageID: qAtoi(m["pmsg"]),
			Tag:               m["tag"],
		},
		QueueJobCounts: QueueJobCounts{
			Total: qAtoi(m["total"]), Sent: qAtoi(m["sent"]),
			Unreachable: qAtoi(m["unreachable"]), Failed: qAtoi(m["failed"]),
		},
		Done: m["done"] == "1",
	}
	if v := m["offline"]; v != "" {
		_ = json.Unmarshal([]byte(v), &st.Offline) // a report without them beats none
	}
	if maxNames > 0 {
		st.UnreachableNames, st.FailedNames = u.Val(), f.Val()
	}
	return st, nil
}

// QueueDepth is the number of messages in the lanes, by priority (waiting, due
// or not, and in flight), and of those in flight.
type QueueDepth struct {
	Ready  [2]int64 // by priority
	Leased int64
	Wave   int64 // planned, not released yet
}

// QueueDepth reads the sizes of the queue's lanes.
func (s *Store) QueueDepth(ctx context.Context) (QueueDepth, error) {
	var counts *redis.SliceCmd
	var leased, wave *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		counts = p.HMGet(ctx, s.keys.QueueCount(), "0", "1")
		leased = p.ZCard(ctx, s.keys.QueueLeased())
		wave = p.ZCard(ctx, s.keys.QueueWave())
		return nil
	})
	if err != nil {
		return QueueDepth{}, fmt.Errorf("storage: queue depth: %w", err)
	}
	var d QueueDepth
	for i, v := range counts.Val() {
		if str, ok := v.(string); ok {
			d.Ready[i] = qAtoi64(str)
		}
	}
	d.Leased = leased.Val()
	d.Wave = wave.Val()
	return d, nil
}

// migrateLanesScript moves up to ARGV[2] message ids from a ready set of
// message ids (the queue before lanes) into their chats' lanes, oldest first.
//
//	KEYS[1] the old ready set   ARGV[1] queue key prefix   ARGV[2] at most this many
//
// Returns how many ids it took from the old set.
var migrateLanesScript = newScript(luaLanes + `
local qp = ARGV[1]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local mk = qp .. 'msg:' .. id
  local st = redis.call('HMGET', mk, 'prio', 'chat', 'state')
  if st[2] and st[3] ~= 'done' then
    local p = st[1] or '0'
    redis.call('HINCRBY', qp .. 'count', p, 1)
    redis.call('RPUSH', lanekey(qp, st[2], p), id)
    if redis.call('EXISTS', qp .. 'busy:' .. st[2]) == 0 then offer(qp, st[2], p) end
  end
end
return #ids
`)

// MigrateQueueLanes moves the messages waiting in the ready sets of a queue from
// before lanes into their chats' lanes, in their due order; a message in flight
// then joins its lane when its lease is recovered or it completes. It is
// idempotent and safe with several processes starting at once, and returns how
// many messages it moved.
func (s *Store) MigrateQueueLanes(ctx context.Context) (int, error) {
	moved := 0
	for p := range 2 {
		for {
			n, err := migrateLanesScript.Run(ctx, s.rdb, []string{s.keys.QueueReadyV1(p)}, s.keys.queuePrefix(), QueueBatch).Int()
			if err != nil {
				return moved, fmt.Errorf("storage: move queued messages into lanes: %w", err)
			}
			moved += n
			if n < QueueBatch {
				break
			}
		}
	}
	return moved, nil
}
