package storage

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// ErrCheckinEnded is returned for a code sent after the check-in's end (three
// hours after the start, when nobody closed the meeting).
var ErrCheckinEnded = errors.New("check-in has ended")

// Checkin is a cell's open check-in with a rotating code: the key its codes
// are derived from (kept once, never per step), when it ends, and the chats
// showing its message, with their language.
type Checkin struct {
	MeetingID int64
	Key       []byte // nil for a check-in opened with a fixed code
	Until     time.Time
	Shown     map[int64]string // chat id → language
}

// openRotatingScript opens check-in for a meeting with a key, or finds it open.
//
// KEYS[1] checkin HASH
// ARGV[1] meeting id, ARGV[2] key (hex), ARGV[3] end (unix ms)
// Returns {1, meeting} when open for the meeting (a key kept from before
// wins), {0, other meeting} when open for another.
var openRotatingScript = newScript(`
local m = redis.call('HGET', KEYS[1], 'meeting')
if m and m ~= ARGV[1] then return {0, m} end
if not m then redis.call('HSET', KEYS[1], 'meeting', ARGV[1]) end
if not redis.call('HGET', KEYS[1], 'key') then
  redis.call('HSET', KEYS[1], 'key', ARGV[2], 'until', ARGV[3])
end
return {1, ARGV[1]}
`)

// OpenRotatingCheckin opens check-in for a meeting with key, ending at until,
// and returns it. Opening it again for the same meeting keeps the key it has;
// a check-in open for another meeting gives ErrCheckinOpen and that meeting's
// id in MeetingID.
func (s *Store) OpenRotatingCheckin(ctx context.Context, cellID, meetingID int64, key []byte, until time.Time) (Checkin, error) {
	res, err := openRotatingScript.Run(ctx, s.rdb, []string{s.keys.Checkin(cellID)},
		meetingID, hex.EncodeToString(key), until.UnixMilli()).Slice()
	if err != nil {
		return Checkin{}, fmt.Errorf("storage: open check-in of meeting %d: %w", meetingID, err)
	}
	if len(res) == 2 && res[0] == int64(0) {
		other, _ := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
		return Checkin{MeetingID: other}, ErrCheckinOpen
	}
	return s.CheckinState(ctx, cellID)
}

// CheckinState returns the cell's open check-in, or ErrNoCheckin.
func (s *Store) CheckinState(ctx context.Context, cellID int64) (Checkin, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Checkin(cellID)).Result()
	if err != nil {
		return Checkin{}, fmt.Errorf("storage: check-in: %w", err)
	}
	id, err := strconv.ParseInt(h["meeting"], 10, 64)
	if err != nil {
		return Checkin{}, ErrNoCheckin
	}
	c := Checkin{MeetingID: id, Shown: map[int64]string{}}
	if k, err := hex.DecodeString(h["key"]); err == nil && len(k) > 0 {
		c.Key = k
	}
	if ms, err := strconv.ParseInt(h["until"], 10, 64); err == nil {
		c.Until = time.UnixMilli(ms)
	}
	for f, v := range h {
		if chat, ok := strings.CutPrefix(f, "show:"); ok {
			if id, err := strconv.ParseInt(chat, 10, 64); err == nil {
				c.Shown[id] = v
			}
		}
	}
	return c, nil
}

// addShownScript records a chat showing the check-in message, when check-in
// is open for the meeting. KEYS[1] checkin HASH; ARGV[1] meeting, ARGV[2]
// field, ARGV[3] language. Returns 1, or 0 when it is not open for it.
var addShownScript = newScript(`
if redis.call('HGET', KEYS[1], 'meeting') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1
`)

// AddCheckinShown records that chatID shows the meeting's check-in message, in
// lang, so that each step edits it; ErrNoCheckin when check-in is not open for
// the meeting.
func (s *Store) AddCheckinShown(ctx context.Context, cellID, meetingID, chatID int64, lang string) error {
	n, err := addShownScript.Run(ctx, s.rdb, []string{s.keys.Checkin(cellID)}, meetingID, "show:"+strconv.FormatInt(chatID, 10), lang).Int()
	if err != nil {
		return fmt.Errorf("storage: check-in shown in chat %d: %w", chatID, err)
	}
	if n == 0 {
		return ErrNoCheckin
	}
	return nil
}

// checkinRotatingScript marks a member present when the code (or the link's
// token, checked by the caller) is accepted. A member already present keeps
// the first record: two check-ins from one account are one.
//
// KEYS[1] checkin HASH, KEYS[2] tries STRING, KEYS[3] presence HASH
// ARGV[1] key (hex) the caller derived from, ARGV[2] member id, ARGV[3]
// presence record, ARGV[4] lockout ms, ARGV[5] tries allowed, ARGV[6] now (unix
// ms), ARGV[7] "1" when the token was verified already, else the code sent,
// ARGV[8…] the codes accepted now.
// Returns {meeting id, 1 when already present}, or {-1} none open, {-2}
// locked out, {-3} wrong code, {-4} ended.
var checkinRotatingScript = newScript(luaPresent + `
local h = redis.call('HMGET', KEYS[1], 'meeting', 'key', 'until')
if not h[1] or h[2] ~= ARGV[1] then return {-1} end
if h[3] and tonumber(ARGV[6]) >= tonumber(h[3]) then return {-4} end
if ARGV[7] ~= '1' then
  local tries = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tries >= tonumber(ARGV[5]) then return {-2} end
  local ok = false
  for i = 8, #ARGV do
    if ARGV[i] == ARGV[7] then ok = true end
  end
  if not ok then
    redis.call('INCR', KEYS[2])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
    return {-3}
  end
  redis.call('DEL', KEYS[2])
end
local prev = redis.call('HGET', KEYS[3], ARGV[2])
if prev and present(prev) then return {tonumber(h[1]), 1} end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return {tonumber(h[1]), 0}
`)

// CheckInRotating marks a member present at the open check-in c: with a code
// (one of accepted, the codes of the steps accepted now; wrong codes count to
// the lockout as before), or, when code is "", by a link the caller verified
// against c's key. It returns the meeting and whether the member was present
// already (their first record stays). Errors: ErrNoCheckin (closed, or opened
// again since c was read), ErrCheckinEnded, ErrLockedOut, ErrWrongCode.
func (s *Store) CheckInRotating(ctx context.Context, cellID int64, c Checkin, p cell.Presence, code string, accepted []string, now time.Time) (int64, bool, error) {
	data, err := encodePresence(p)
	if err != nil {
		return 0, false, fmt.Errorf("storage: encode presence: %w", err)
	}
	proof := code
	if code == "" {
		proof = "1"
	}
	args := []any{hex.EncodeToString(c.Key), p.MemberID, data, CheckinLockout.Milliseconds(), CheckinTries, now.UnixMilli(), proof}
	for _, a := range accepted {
		args = append(args, a)
	}
	res, err := checkinRotatingScript.Run(ctx, s.rdb,
		[]string{s.keys.Checkin(cellID), s.keys.CheckinTries(cellID, p.MemberID), s.keys.Presence(cellID, c.MeetingID)},
		args...).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("storage: check in member %d: %w", p.MemberID, err)
	}
	switch res[0] {
	case -1:
		return 0, false, ErrNoCheckin
	case -2:
		return 0, false, ErrLockedOut
	case -3:
		return 0, false, ErrWrongCode
	case -4:
		return 0, false, ErrCheckinEnded
	}
	return res[0], len(res) > 1 && res[1] == 1, nil
}

// endCheckinScript ends the check-in when it is for the meeting.
// KEYS[1] checkin HASH; ARGV[1] meeting. Returns 1 when it ended it.
var endCheckinScript = newScript(`
if redis.call('HGET', KEYS[1], 'meeting') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

// EndCheckin ends the cell's check-in when it is for meetingID, and reports
// whether this call ended it (false: closed already, or another meeting's).
func (s *Store) EndCheckin(ctx context.Context, cellID, meetingID int64) (bool, error) {
	n, err := endCheckinScript.Run(ctx, s.rdb, []string{s.keys.Checkin(cellID)}, meetingID).Int()
	if err != nil {
		return false, fmt.Errorf("storage: end check-in of meeting %d: %w", meetingID, err)
	}
	return n == 1, nil
}

// SetQueueResult records messageID under a result name (QueueEntry.Result) for
// a message that went at once rather than through the queue, so that queued
// edits can refer to it all the same.
func (s *Store) SetQueueResult(ctx context.Context, name string, messageID int) error {
	if err := s.rdb.Set(ctx, s.keys.QueueResult(name), messageID, QueueRetention).Err(); err != nil {
		return fmt.Errorf("storage: record result %s: %w", name, err)
	}
	return nil
}
