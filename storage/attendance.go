package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
)

// Sentinel errors of check-in.
var (
	ErrNoCheckin   = errors.New("no check-in open")
	ErrWrongCode   = errors.New("wrong check-in code")
	ErrLockedOut   = errors.New("too many wrong codes")
	ErrCheckinOpen = errors.New("a check-in is open for another meeting")
)

// SetGroupNotice records the group's notice of a meeting: its message id and the
// text it shows.
func (s *Store) SetGroupNotice(ctx context.Context, cellID, meetingID, messageID int64, shown string) error {
	if err := s.rdb.HSet(ctx, s.keys.GroupNotice(cellID, meetingID), "msg", messageID, "shown", shown).Err(); err != nil {
		return fmt.Errorf("storage: group notice of meeting %d: %w", meetingID, err)
	}
	return nil
}

// GroupNotice returns the group's notice of a meeting: its message id (0 when
// none was recorded) and the text it shows.
func (s *Store) GroupNotice(ctx context.Context, cellID, meetingID int64) (int64, string, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.GroupNotice(cellID, meetingID)).Result()
	if err != nil {
		return 0, "", fmt.Errorf("storage: group notice of meeting %d: %w", meetingID, err)
	}
	id, _ := strconv.ParseInt(h["msg"], 10, 64)
	return id, h["shown"], nil
}

// markCountsScript records that a group notice's counts changed.
//
// KEYS[1] dirty ZSET, KEYS[2] seq HASH; ARGV[1] "cell:meeting"
// The score is Redis's own clock, the same for every replica; an entry already
// waiting keeps its (maybe later) time.
var markCountsScript = newScript(luaClock + `
local now = clockms(0)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('ZADD', KEYS[1], 'NX', now, ARGV[1])
return 1
`)

// MarkCounts records that a meeting's answers changed, for its group notice's
// counts to be edited.
func (s *Store) MarkCounts(ctx context.Context, cellID, meetingID int64) error {
	keys, name := s.countsMark(cellID, meetingID)
	if err := markCountsScript.Run(ctx, s.rdb, keys, name).Err(); err != nil {
		return fmt.Errorf("storage: mark counts of meeting %d: %w", meetingID, err)
	}
	return nil
}

// countsMark is markCountsScript's keys and argument for a meeting.
func (s *Store) countsMark(cellID, meetingID int64) ([]string, string) {
	return []string{s.keys.CountsDirty(), s.keys.CountsSeq()}, strconv.FormatInt(cellID, 10) + ":" + strconv.FormatInt(meetingID, 10)
}

// claimCountsScript takes dirty notices whose time has come, leasing each for
// ARGV[1] ms, and returns name, seq pairs.
var claimCountsScript = newScript(luaClock + `
local now = clockms(0)
local got = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, name in ipairs(got) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), name)
  table.insert(out, name)
  table.insert(out, redis.call('HGET', KEYS[2], name) or '0')
end
return out
`)

// CountsClaim is a group notice whose counts are to be edited.
type CountsClaim struct {
	CellID, MeetingID int64
	seq               string
}

// ClaimCounts takes up to limit notices to edit, each leased for lease.
func (s *Store) ClaimCounts(ctx context.Context, lease time.Duration, limit int) ([]CountsClaim, error) {
	res, err := claimCountsScript.Run(ctx, s.rdb, []string{s.keys.CountsDirty(), s.keys.CountsSeq()}, lease.Milliseconds(), limit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("storage: claim counts: %w", err)
	}
	var out []CountsClaim
	for i := 0; i+1 < len(res); i += 2 {
		c, m, _ := strings.Cut(res[i], ":")
		cid, err1 := strconv.ParseInt(c, 10, 64)
		mid, err2 := strconv.ParseInt(m, 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, CountsClaim{CellID: cid, MeetingID: mid, seq: res[i+1]})
	}
	return out, nil
}

// doneCountsScript ends a claim: removed when no change came meanwhile, else due
// again ARGV[3] ms from now (Telegram's pace for one group).
var doneCountsScript = newScript(luaClock + `
local now = clockms(0)
local seq = redis.call('HGET', KEYS[2], ARGV[1]) or '0'
if seq == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1
`)

// DoneCounts ends a claim; when more answers came while it was edited, the
// notice is due again after gap.
func (s *Store) DoneCounts(ctx context.Context, c CountsClaim, gap time.Duration) error {
	name := strconv.FormatInt(c.CellID, 10) + ":" + strconv.FormatInt(c.MeetingID, 10)
	if err := doneCountsScript.Run(ctx, s.rdb, []string{s.keys.CountsDirty(), s.keys.CountsSeq()}, name, c.seq, gap.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("storage: finish counts of meeting %d: %w", c.MeetingID, err)
	}
	return nil
}

var delayCountsScript = newScript(luaClock + `
local now = clockms(0)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`)

// DelayCounts puts a claim back, due after d by Redis's clock (the group's limit
// held the edit back).
func (s *Store) DelayCounts(ctx context.Context, c CountsClaim, d time.Duration) error {
	name := strconv.FormatInt(c.CellID, 10) + ":" + strconv.FormatInt(c.MeetingID, 10)
	if err := delayCountsScript.Run(ctx, s.rdb, []string{s.keys.CountsDirty()}, name, d.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("storage: delay counts of meeting %d: %w", c.MeetingID, err)
	}
	return nil
}

// SetPresence records a member's presence at a meeting, replacing an earlier mark.
func (s *Store) SetPresence(ctx context.Context, cellID, meetingID int64, p cell.Presence) error {
	data, err := encodePresence(p)
	if err != nil {
		return fmt.Errorf("storage: encode presence: %w", err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Presence(cellID, meetingID), strconv.FormatInt(p.MemberID, 10), data).Err(); err != nil {
		return fmt.Errorf("storage: presence of member %d: %w", p.MemberID, err)
	}
	return nil
}

// Presences returns what was recorded of every member at a meeting.
func (s *Store) Presences(ctx context.Context, cellID, meetingID int64) (map[int64]cell.Presence, error) {
	return byMember(ctx, s, s.keys.Presence(cellID, meetingID), fmt.Sprintf("presence at meeting %d", meetingID), decodePresence)
}

// OpenCheckin opens check-in for a meeting with code, unless one is open for
// another meeting of the cell (ErrCheckinOpen, with that meeting's id). Opening it
// again for the same meeting returns the code already given.
func (s *Store) OpenCheckin(ctx context.Context, cellID, meetingID int64, code string) (string, int64, error) {
	key := s.keys.Checkin(cellID)
	ok, err := s.rdb.HSetNX(ctx, key, "meeting", meetingID).Result()
	if err != nil {
		return "", 0, fmt.Errorf("storage: open check-in: %w", err)
	}
	if ok {
		if err := s.rdb.HSet(ctx, key, "code", code).Err(); err != nil {
			return "", 0, fmt.Errorf("storage: open check-in: %w", err)
		}
		return code, meetingID, nil
	}
	h, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return "", 0, fmt.Errorf("storage: open check-in: %w", err)
	}
	open, _ := strconv.ParseInt(h["meeting"], 10, 64)
	if open != meetingID {
		return "", open, ErrCheckinOpen
	}
	if h["code"] == "" {
		if err := s.rdb.HSet(ctx, key, "code", code).Err(); err != nil {
			return "", 0, fmt.Errorf("storage: open check-in: %w", err)
		}
		return code, meetingID, nil
	}
	return h["code"], meetingID, nil
}

// OpenCheckinMeeting returns the meeting whose check-in is open, or ErrNoCheckin.
func (s *Store) OpenCheckinMeeting(ctx context.Context, cellID int64) (int64, error) {
	id, err := s.rdb.HGet(ctx, s.keys.Checkin(cellID), "meeting").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, ErrNoCheckin
	}
	if err != nil {
		return 0, fmt.Errorf("storage: open check-in: %w", err)
	}
	return id, nil
}

// checkinScript marks a member present when the code is right.
//
// KEYS[1] checkin HASH, KEYS[2] tries STRING, KEYS[3] presence HASH
// ARGV[1] code, ARGV[2] member id, ARGV[3] presence record, ARGV[4] lockout ms,
// ARGV[5] tries allowed
// Returns meeting id, or -1 none open, -2 locked out, -3 wrong code.
var checkinScript = newScript(`
local meeting = redis.call('HGET', KEYS[1], 'meeting')
if not meeting then return -1 end
local tries = tonumber(redis.call('GET', KEYS[2]) or '0')
if tries >= tonumber(ARGV[5]) then return -2 end
if redis.call('HGET', KEYS[1], 'code') ~= ARGV[1] then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  return -3
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return tonumber(meeting)
`)

// Lockout after wrong check-in codes.
const (
	CheckinTries   = 3
	CheckinLockout = 5 * time.Minute
)

// CheckIn marks a member present at the meeting whose check-in is open, when code
// is its code: ErrNoCheckin, ErrLockedOut (three wrong codes: five minutes) or
// ErrWrongCode otherwise.
func (s *Store) CheckIn(ctx context.Context, cellID int64, p cell.Presence, code string) (int64, error) {
	open, err := s.OpenCheckinMeeting(ctx, cellID)
	if err != nil {
		return 0, err
	}
	data, err := encodePresence(p)
	if err != nil {
		return 0, fmt.Errorf("storage: encode presence: %w", err)
	}
	res, err := checkinScript.Run(ctx, s.rdb,
		[]string{s.keys.Checkin(cellID), s.keys.CheckinTries(cellID, p.MemberID), s.keys.Presence(cellID, open)},
		code, p.MemberID, data, CheckinLockout.Milliseconds(), CheckinTries).Int64()
	if err != nil {
		return 0, fmt.Errorf("storage: check in member %d: %w", p.MemberID, err)
	}
	switch res {
	case -1:
		return 0, ErrNoCheckin
	case -2:
		return 0, ErrLockedOut
	case -3:
		return 0, ErrWrongCode
	}
	return res, nil
}

// CloseCheckin ends the cell's check-in (the code dies) when it is for meetingID.
func (s *Store) CloseCheckin(ctx context.Context, cellID, meetingID int64) error {
	open, err := s.OpenCheckinMeeting(ctx, cellID)
	if errors.Is(err, ErrNoCheckin) {
		return nil
	}
	if err != nil {
		return err
	}
	if open != meetingID {
		return nil
	}
	if err := s.rdb.Del(ctx, s.keys.Checkin(cellID)).Err(); err != nil {
		return fmt.Errorf("storage: close check-in: %w", err)
	}
	return nil
}

// SetOutcomes records what a closed meeting meant for each member.
func (s *Store) SetOutcomes(ctx context.Context, cellID, meetingID int64, outcomes map[int64]cell.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(outcomes))
	for id, o := range outcomes {
		args = append(args, id, string(o))
	}
	if err := s.rdb.HSet(ctx, s.keys.Outcomes(cellID, meetingID), args...).Err(); err != nil {
		return fmt.Errorf("storage: outcomes of meeting %d: %w", meetingID, err)
	}
	return nil
}

// Outcomes returns what a closed meeting meant for each member.
func (s *Store) Outcomes(ctx context.Context, cellID, meetingID int64) (map[int64]cell.Outcome, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Outcomes(cellID, meetingID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: outcomes of meeting %d: %w", meetingID, err)
	}
	out := make(map[int64]cell.Outcome, len(h))
	for k, v := range h {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil {
			out[id] = cell.Outcome(v)
		}
	}
	return out, nil
}

// AlertSent reports whether an absence alert was recorded as sent.
func (s *Store) AlertSent(ctx context.Context, cellID int64, kind string, memberID, meetingID int64) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.AlertSent(cellID, kind, memberID, meetingID)).Result()
	if err != nil {
		return false, fmt.Errorf("storage: alert sent: %w", err)
	}
	return n == 1, nil
}

// MarkAlertSent records an absence alert as sent; false when it was before.
func (s *Store) MarkAlertSent(ctx context.Context, cellID int64, kind string, memberID, meetingID int64) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keys.AlertSent(cellID, kind, memberID, meetingID), 1, 0).Result()
	if err != nil {
		return false, fmt.Errorf("storage: mark alert sent: %w", err)
	}
	return ok, nil
}

// CheckinTriesOf is how many wrong codes a member has sent lately.
func (s *Store) CheckinTriesOf(ctx context.Context, cellID, memberID int64) (int, error) {
	n, err := s.rdb.Get(ctx, s.keys.CheckinTries(cellID, memberID)).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: check-in tries: %w", err)
	}
	return n, nil
}
