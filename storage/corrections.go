package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
)

// Sentinel errors of corrections.
var (
	// ErrNotClosed is a correction of a meeting that is not closed: only a
	// closed meeting's outcomes can be corrected.
	ErrNotClosed = errors.New("meeting not closed")
	// ErrNoOutcome is a correction of a member the meeting has no outcome for
	// (not on the roster that day).
	ErrNoOutcome = errors.New("member has no outcome at this meeting")
	// ErrUnchanged is a correction that changes nothing.
	ErrUnchanged = errors.New("correction changes nothing")
)

// correctScript records a correction of one member's outcome at a closed
// meeting: the outcome, the member's latest correction, and the log entry, at
// once.
//
// KEYS[1] meetings HASH, KEYS[2] outcomes HASH, KEYS[3] corrections HASH,
// KEYS[4] correction log LIST
// ARGV[1] meeting id, ARGV[2] member id, ARGV[3] outcome to, ARGV[4] correction
// JSON with "from":"" as the placeholder, ARGV[5] the reason and text it gives
// ("" for present or absent)
// Returns the outcome replaced, or -1 no such meeting, -2 not closed, -3 no
// outcome for the member, -4 nothing changes.
var correctScript = newScript(`
local data = redis.call('HGET', KEYS[1], ARGV[1])
if not data then return -1 end
local m = cjson.decode(data)
if m.state ~= 'closed' then return -2 end
local from = redis.call('HGET', KEYS[2], ARGV[2])
if not from then return -3 end
local prev = redis.call('HGET', KEYS[3], ARGV[2])
local prevWhy = ''
if prev then
  local p = cjson.decode(prev)
  prevWhy = (p.reason or '') .. '|' .. (p.text or '')
end
if from == ARGV[3] and (ARGV[3] ~= 'excused' or prevWhy == ARGV[5]) then return -4 end
local entry = string.gsub(ARGV[4], '"from":""', '"from":"' .. from .. '"', 1)
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], entry)
redis.call('RPUSH', KEYS[4], entry)
return from
`)

// Correct changes one member's outcome at a closed meeting (c.To, with c.By
// and c.At saying who and when) and returns the outcome it replaced:
// ErrNotFound, ErrNotClosed, ErrNoOutcome or ErrUnchanged otherwise, and
// nothing changes then.
func (s *Store) Correct(ctx context.Context, cellID, meetingID int64, c cell.Correction) (cell.Outcome, error) {
	if !c.Valid() {
		return "", fmt.Errorf("storage: correct meeting %d: invalid correction to %q", meetingID, c.To)
	}
	c.From = ""
	data, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("storage: encode correction: %w", err)
	}
	if !strings.Contains(string(data), `"from":""`) {
		return "", fmt.Errorf("storage: encode correction: unexpected JSON %.40s", data)
	}
	why := ""
	if c.To == cell.OutcomeExcused {
		why = string(c.Reason) + "|" + c.Text
	}
	res, err := correctScript.Run(ctx, s.rdb,
		[]string{s.keys.Meetings(cellID), s.keys.Outcomes(cellID, meetingID), s.keys.Corrections(cellID, meetingID), s.keys.CorrectionLog(cellID, meetingID)},
		meetingID, c.MemberID, string(c.To), string(data), why).Result()
	if err != nil {
		return "", fmt.Errorf("storage: correct member %d at meeting %d: %w", c.MemberID, meetingID, err)
	}
	switch v := res.(type) {
	case string:
		return cell.Outcome(v), nil
	case int64:
		switch v {
		case -1:
			return "", fmt.Errorf("storage: correct meeting %d: %w", meetingID, ErrNotFound)
		case -2:
			return "", ErrNotClosed
		case -3:
			return "", ErrNoOutcome
		case -4:
			return "", ErrUnchanged
		}
	}
	return "", fmt.Errorf("storage: correct meeting %d: unexpected reply %v", meetingID, res)
}

// Corrections returns each member's latest correction at a meeting.
func (s *Store) Corrections(ctx context.Context, cellID, meetingID int64) (map[int64]cell.Correction, error) {
	return byMember(ctx, s, s.keys.Corrections(cellID, meetingID), fmt.Sprintf("corrections of meeting %d", meetingID),
		func(memberID int64, v string) (cell.Correction, error) {
			var c cell.Correction
			if err := json.Unmarshal([]byte(v), &c); err != nil {
				return cell.Correction{}, err
			}
			c.MemberID = memberID
			return c, nil
		})
}

// CorrectionLog returns every correction made at a meeting, oldest first.
func (s *Store) CorrectionLog(ctx context.Context, cellID, meetingID int64) ([]cell.Correction, error) {
	items, err := s.rdb.LRange(ctx, s.keys.CorrectionLog(cellID, meetingID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: correction log of meeting %d: %w", meetingID, err)
	}
	out := make([]cell.Correction, 0, len(items))
	for _, v := range items {
		var c cell.Correction
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return nil, fmt.Errorf("storage: decode correction: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}
