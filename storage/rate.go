package storage

// Telegram's flood limits, kept in Redis so that every process sending for the bot
// shares them (the Bot API's FAQ: about 30 messages a second
// overall, about one a second per chat with short bursts, 20 a minute per group).
// Each limit is a GCRA: one key holds its theoretical arrival time (TAT, unix µs);
// a send at time t conforms when t ≥ TAT − tolerance, and moves TAT to
// max(TAT, t) + interval.
//
// t is Redis's clock (TIME inside the scripts) when the caller passes the zero
// time, as delivery does: every replica then reads the same clock, and one whose
// clock runs ahead can neither take a slot early nor send past the limits.
// Tests pass their own times.

import (
	"context"
	"fmt"
	"time"
)

// RateLimit is one GCRA limit: one send every Every, with bursts of Burst.
type RateLimit struct {
	Every time.Duration
	Burst int
}

func (l RateLimit) interval() int64 { return max(l.Every.Microseconds(), 1) }

// tolerance is how far ahead of its TAT a send may go: Burst−1 intervals.
func (l RateLimit) tolerance() int64 { return int64(max(l.Burst-1, 0)) * l.interval() }

// RateLimits are the limits a send is checked against.
type RateLimits struct {
	Global  RateLimit // every send
	Private RateLimit // each private chat (chat id > 0)
	Group   RateLimit // each group (chat id < 0)
	// FloodChats is how many different chats answering 429 within FloodWindow
	// make a 429 pause the global limit too, not only the chat's.
	FloodChats  int
	FloodWindow time.Duration
}

// DefaultRateLimits are Telegram's (its Bot FAQ), kept with a margin so that a
// server counting strictly (per second, per minute) never answers 429:
//   - overall: evenly spaced, no burst, 33.5 ms apart (29.85 a second): 31 sends
//     span 1.005 s, so at most 30 fall in any second (5 ms to spare for the
//     spread of HTTP latency), and a long broadcast, replies and edits included,
//     takes within 0.5% of N/30 s (34 ms cost 2%; the benchmarks in
//     internal/delivery measure it);
//   - a private chat: 1.1 s apart with bursts of 2 (the two parts of a long text
//     go together): the server's bucket starts full and holds no more than its
//     burst, so when the first send of a burst arrives after the next one (HTTP
//     latency varies), an exact 1 s would draw a 429;
//   - a group: 3.2 s apart with bursts of 2: at most 20 in any minute.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		Global:      RateLimit{Every: 33500 * time.Microsecond, Burst: 1},
		Private:     RateLimit{Every: 1100 * time.Millisecond, Burst: 2},
		Group:       RateLimit{Every: 3200 * time.Millisecond, Burst: 2},
		FloodChats:  5,
		FloodWindow: time.Second,
	}
}

// PaidRateLimits are DefaultRateLimits with the overall limit Telegram allows
// sends that carry allow_paid_broadcast: 1,000 a second, kept at 950 for the
// same margin; the per-chat limits stay.
func PaidRateLimits() RateLimits {
	l := DefaultRateLimits()
	l.Global = RateLimit{Every: time.Second / 950, Burst: 1}
	return l
}

// clockUS is a script's now argument: 0 for Redis's clock (see luaClockUS).
func clockUS(now time.Time) int64 {
	if now.IsZero() {
		return 0
	}
	return now.UnixMicro()
}

// luaClockUS defines clockus(v): the caller's now (unix µs) when v is not 0,
// else Redis's.
const luaClockUS = `
local function clockus(v)
  v = tonumber(v) or 0
  if v ~= 0 then return v end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`

func (l RateLimits) chat(chatID int64) RateLimit {
	if chatID < 0 {
		return l.Group
	}
	return l.Private
}

// reserveScript reserves a send on the global limit and, when given, a chat's.
//
//	KEYS[1] global TAT   KEYS[2] chat TAT (optional)
//	ARGV[1] now (unix µs; 0: Redis's clock)   ARGV[2] global interval (µs)   ARGV[3] global tolerance (µs)
//	ARGV[4] chat interval (µs)   ARGV[5] chat tolerance (µs)   ARGV[6] longest wait (µs)
//
// Returns {1, wait} when a slot was reserved on both limits wait µs from now, or
// {0, wait} when nothing was reserved: ask again in wait µs. Nothing is reserved
// when the chat's wait exceeds the global one, because a global slot taken for a
// later time would hold back every other chat's sends until then; nor when the
// wait exceeds ARGV[6].
var reserveScript = newScript(luaClockUS + `
local now = clockus(ARGV[1])
local gt = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local gwait = math.max(0, gt - tonumber(ARGV[3]) - now)
if #KEYS > 1 then
  local ct = math.max(tonumber(redis.call('GET', KEYS[2])) or now, now)
  local cwait = math.max(0, ct - tonumber(ARGV[5]) - now)
  if cwait > gwait then return {0, cwait} end
  if gwait <= tonumber(ARGV[6]) then
    local nc = math.max(ct, now + gwait) + tonumber(ARGV[4])
    redis.call('SET', KEYS[2], string.format('%d', nc), 'PX', math.ceil((nc - now) / 1000) + 1000)
  end
end
if gwait > tonumber(ARGV[6]) then return {0, gwait} end
local ng = math.max(gt, now + gwait) + tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%d', ng), 'PX', math.ceil((ng - now) / 1000) + 1000)
return {1, gwait}
`)

// Reserve reserves a send to chatID (0: the global limit only) at now+wait (the
// zero now: Redis's clock), and
// returns ok true; the caller sends after waiting. With ok false nothing was
// reserved and the caller should ask again after wait: sleep when the wait is short,
// or reschedule the message when it is long (a chat paused by a 429). A wait over
// maxWait is never reserved.
func (s *Store) Reserve(ctx context.Context, now time.Time, chatID int64, l RateLimits, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	keys := []string{s.keys.RateGlobal()}
	c := l.chat(chatID)
	if chatID != 0 {
		keys = append(keys, s.keys.RateChat(chatID))
	}
	r, err := reserveScript.Run(ctx, s.rdb, keys, clockUS(now),
		l.Global.interval(), l.Global.tolerance(), c.interval(), c.tolerance(), maxWait.Microseconds()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("storage: reserve a send to %d: %w", chatID, err)
	}
	if len(r) != 2 {
		return 0, false, fmt.Errorf("storage: reserve a send to %d: bad reply %v", chatID, r)
	}
	return time.Duration(r[1]) * time.Microsecond, r[0] == 1, nil
}

// pauseScript pushes limits forward after a 429.
//
//	KEYS[1] global TAT   KEYS[2] flood ZSET   KEYS[3] chat TAT (optional)
//	ARGV[1] now (unix µs; 0: Redis's clock)   ARGV[2] pause (µs) from now   ARGV[3] global tolerance (µs)
//	ARGV[4] chat tolerance (µs)   ARGV[5] chat id   ARGV[6] flood window (µs)
//	ARGV[7] chats within the window that pause the global limit
//
// Returns 1 when the global limit was paused too. The chat's next send conforms at
// now+ARGV[2], whatever its burst.
var pauseScript = newScript(luaClockUS + `
local now = clockus(ARGV[1])
local untl = now + tonumber(ARGV[2])
local function push(key, tol)
  local t = math.max(tonumber(redis.call('GET', key)) or now, untl + tol)
  redis.call('SET', key, string.format('%d', t), 'PX', math.ceil((t - now) / 1000) + 1000)
end
local global = #KEYS < 3
if #KEYS > 2 then
  push(KEYS[3], tonumber(ARGV[4]))
  redis.call('ZADD', KEYS[2], now, ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6]))
  redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[6]) / 1000) + 1)
  global = redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7])
end
if global then
  push(KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
`)

// PauseChat pushes chatID's limit forward by d after a 429 with retry_after d; when
// l.FloodChats different chats answered 429 within l.FloodWindow (or chatID is 0),
// the global limit too. It reports whether the global limit was paused. The zero
// now is Redis's clock.
func (s *Store) PauseChat(ctx context.Context, now time.Time, chatID int64, d time.Duration, l RateLimits) (bool, error) {
	keys := []string{s.keys.RateGlobal(), s.keys.RateFlood()}
	if chatID != 0 {
		keys = append(keys, s.keys.RateChat(chatID))
	}
	n, err := pauseScript.Run(ctx, s.rdb, keys, clockUS(now), d.Microseconds(),
		l.Global.tolerance(), l.chat(chatID).tolerance(), chatID,
		max(l.FloodWindow.Microseconds(), 1), max(l.FloodChats, 1)).Int()
	if err != nil {
		return false, fmt.Errorf("storage: pause sends to %d for %s: %w", chatID, d, err)
	}
	return n == 1, nil
}
