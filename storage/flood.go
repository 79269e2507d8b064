package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// FloodLimit is the per-user update limit: a user whose updates go over Updates
// within any Window is ignored for Mute. The zero FloodLimit counts nothing.
type FloodLimit struct {
	Updates int
	Window  time.Duration
	Mute    time.Duration
}

// Flood states of an update's sender.
const (
	FloodOK      = iota // within the limit: handle the update
	FloodOver           // this update went over the limit: the sender is ignored from now on, and to be told so once
	FloodIgnored        // the sender is being ignored: drop the update
)

// Flood is what the limit says of one update.
type Flood struct {
	State int           // FloodOK, FloodOver or FloodIgnored
	Left  time.Duration // how long the sender is still ignored, when not FloodOK
}

// floodScript counts an update against its sender's limit, on Redis's clock so
// that every replica counts the same window. The user's updates of the window
// are a sorted set of update keys: an update tried again (Redis was down,
// another process held it, Telegram sent it again) has the same key and counts
// once. The set holds at most Updates+1 members, and both keys expire.
//
//	KEYS[1] the user's updates (ZSET)   KEYS[2] the user's ignored mark (STRING)
//	ARGV[1] the update's key   ARGV[2] most updates in a window
//	ARGV[3] window (ms)   ARGV[4] how long the user is ignored (ms)
//	ARGV[5] now (unix ms; 0: Redis's clock)
//
// Returns {FloodOK, 0}, {FloodOver, ms ignored} (the mark was set now, by this
// update alone) or {FloodIgnored, ms left}.
var floodScript = newScript(luaClock + `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {2, left} end
local now = clockms(ARGV[5])
local window = tonumber(ARGV[3])
if redis.call('ZADD', KEYS[1], 'NX', now, ARGV[1]) == 0 then return {0, 0} end
if redis.call('ZCARD', KEYS[1]) > tonumber(ARGV[2]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) > tonumber(ARGV[2]) then
    redis.call('DEL', KEYS[1])
    redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
    return {1, tonumber(ARGV[4])}
  end
end
redis.call('PEXPIRE', KEYS[1], window)
return {0, 0}
`)

// countUpdate queues floodScript for the update key of user's update.
func (s *Store) countUpdate(ctx context.Context, p *pipe, userID int64, key string, l FloodLimit) *redis.Cmd {
	return p.eval(ctx, floodScript, s.floodKeys(userID), key, l.Updates, l.Window.Milliseconds(), l.Mute.Milliseconds(), 0)
}

func (s *Store) floodKeys(userID int64) []string {
	return []string{s.keys.UserUpdates(userID), s.keys.UserIgnored(userID)}
}

// floodOf reads countUpdate's reply.
func floodOf(cmd *redis.Cmd) (Flood, error) {
	v, err := cmd.Int64Slice()
	if err != nil {
		return Flood{}, err
	}
	if len(v) != 2 {
		return Flood{}, fmt.Errorf("flood limit: unexpected reply %v", v)
	}
	return Flood{State: int(v[0]), Left: time.Duration(v[1]) * time.Millisecond}, nil
}

// CountUpdate counts an update (by its key) of user, come at now (the zero
// time: Redis's clock, as StartUpdate counts), against the limit l. The time a
// user stays ignored runs on Redis's clock whatever now is.
func (s *Store) CountUpdate(ctx context.Context, now time.Time, userID int64, key string, l FloodLimit) (Flood, error) {
	cmd := floodScript.Run(ctx, s.rdb, s.floodKeys(userID), key, l.Updates, l.Window.Milliseconds(), l.Mute.Milliseconds(), clockMS(now))
	f, err := floodOf(cmd)
	if err != nil {
		return Flood{}, fmt.Errorf("storage: count update %s of user %d: %w", key, userID, err)
	}
	return f, nil
}
