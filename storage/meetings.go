package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
)

// ErrStale is a change to a meeting that someone else changed first.
var ErrStale = errors.New("meeting changed meanwhile")

// createMeetingScript stores a new meeting once per origin.
//
// KEYS[1] origins HASH, KEYS[2] seq STRING, KEYS[3] meetings HASH, KEYS[4] by-start ZSET
// ARGV[1] origin, ARGV[2] meeting JSON with "id":0 as the placeholder "\"id\":0",
// ARGV[3] start unix seconds
// Returns {id, 1} when created, {id, 0} when the origin made one before.
var createMeetingScript = newScript(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then return {tonumber(id), 0} end
id = redis.call('INCR', KEYS[2])
local data = string.gsub(ARGV[2], '"id":0,', '"id":' .. id .. ',', 1)
redis.call('HSET', KEYS[3], id, data)
redis.call('ZADD', KEYS[4], ARGV[3], id)
redis.call('HSET', KEYS[1], ARGV[1], id)
return {id, 1}
`)

// CreateMeeting stores m (its ID is given here) once per origin: the key of the
// update that asked for it, or a recurring meeting's nominal time. Doing it again
// with the same origin returns the meeting made the first time, and created false.
func (s *Store) CreateMeeting(ctx context.Context, origin string, m cell.Meeting) (cell.Meeting, bool, error) {
	m.ID = 0
	if m.State == "" {
		m.State = cell.StateScheduled
	}
	if m.Version == 0 {
		m.Version = 1
	}
	data, err := json.Marshal(m)
	if err != nil {
		return cell.Meeting{}, false, fmt.Errorf("storage: encode meeting: %w", err)
	}
	if !strings.HasPrefix(string(data), `{"id":0,`) {
		return cell.Meeting{}, false, fmt.Errorf("storage: encode meeting: unexpected JSON %.20s", data)
	}
	res, err := createMeetingScript.Run(ctx, s.rdb,
		[]string{s.keys.MeetingOrigins(m.CellID), s.keys.MeetingSeq(m.CellID), s.keys.Meetings(m.CellID), s.keys.MeetingsByStart(m.CellID)},
		origin, string(data), m.Start.Unix()).Int64Slice()
	if err != nil {
		return cell.Meeting{}, false, fmt.Errorf("storage: create meeting in cell %d: %w", m.CellID, err)
	}
	got, err := s.Meeting(ctx, m.CellID, res[0])
	if err != nil {
		return cell.Meeting{}, false, err
	}
	return got, res[1] == 1, nil
}

// Meeting returns one meeting.
func (s *Store) Meeting(ctx context.Context, cellID, id int64) (cell.Meeting, error) {
	data, err := s.rdb.HGet(ctx, s.keys.Meetings(cellID), strconv.FormatInt(id, 10)).Result()
	if errors.Is(err, redis.Nil) {
		return cell.Meeting{}, fmt.Errorf("storage: meeting %d of cell %d: %w", id, cellID, ErrNotFound)
	}
	if err != nil {
		return cell.Meeting{}, fmt.Errorf("storage: meeting %d of cell %d: %w", id, cellID, err)
	}
	var m cell.Meeting
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return cell.Meeting{}, fmt.Errorf("storage: decode meeting %d of cell %d: %w", id, cellID, err)
	}
	return m, nil
}

// updateMeetingScript replaces a meeting when its stored version and state are
// the ones the caller read.
//
// KEYS[1] meetings HASH, KEYS[2] by-start ZSET
// ARGV[1] id, ARGV[2] JSON the caller read, ARGV[3] new JSON, ARGV[4] start unix seconds
// Returns 1, or 0 when the stored meeting is not the one read.
var updateMeetingScript = newScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
`)

// UpdateMeeting reads a meeting, lets change modify it, and stores it when nobody
// changed it meanwhile (ErrStale otherwise, after a few tries). It returns the
// meeting as stored.
func (s *Store) UpdateMeeting(ctx context.Context, cellID, id int64, change func(*cell.Meeting) error) (cell.Meeting, error) {
	for range 5 {
		old, err := s.rdb.HGet(ctx, s.keys.Meetings(cellID), strconv.FormatInt(id, 10)).Result()
		if errors.Is(err, redis.Nil) {
			return cell.Meeting{}, fmt.Errorf("storage: meeting %d of cell %d: %w", id, cellID, ErrNotFound)
		}
		if err != nil {
			return cell.Meeting{}, fmt.Errorf("storage: meeting %d of cell %d: %w", id, cellID, err)
		}
		var m cell.Meeting
		if err := json.Unmarshal([]byte(old), &m); err != nil {
			return cell.Meeting{}, fmt.Errorf("storage: decode meeting %d: %w", id, err)
		}
		if err := change(&m); err != nil {
			return cell.Meeting{}, err
		}
		data, err := json.Marshal(m)
		if err != nil {
			return cell.Meeting{}, fmt.Errorf("storage: encode meeting %d: %w", id, err)
		}
		ok, err := updateMeetingScript.Run(ctx, s.rdb, []string{s.keys.Meetings(cellID), s.keys.MeetingsByStart(cellID)},
			id, old, string(data), m.Start.Unix()).Int()
		if err != nil {
			return cell.Meeting{}, fmt.Errorf("storage: update meeting %d: %w", id, err)
		}
		if ok == 1 {
			return m, nil
		}
	}
	return cell.Meeting{}, fmt.Errorf("storage: update meeting %d: %w", id, ErrStale)
}

// Meetings returns the cell's meetings that start in [from, to), by start.
func (s *Store) Meetings(ctx context.Context, cellID int64, from, to time.Time) ([]cell.Meeting, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, s.keys.MeetingsByStart(cellID), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.Unix(), 10), Max: "(" + strconv.FormatInt(to.Unix(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: meetings of cell %d: %w", cellID, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.keys.Meetings(cellID), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: meetings of cell %d: %w", cellID, err)
	}
	out := make([]cell.Meeting, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var m cell.Meeting
		if err := json.Unmarshal([]byte(str), &m); err != nil {
			return nil, fmt.Errorf("storage: decode a meeting of cell %d: %w", cellID, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// NextMeeting returns the cell's first meeting that has not started by now and is
// not cancelled; ErrNotFound when there is none.
func (s *Store) NextMeeting(ctx context.Context, cellID int64, now time.Time) (cell.Meeting, error) {
	ms, err := s.Meetings(ctx, cellID, now.Add(time.Second), now.AddDate(100, 0, 0))
	if err != nil {
		return cell.Meeting{}, err
	}
	for _, m := range ms {
		if m.Open() {
			return m, nil
		}
	}
	return cell.Meeting{}, fmt.Errorf("storage: next meeting of cell %d: %w", cellID, ErrNotFound)
}

// Schedule returns the cell's meeting settings.
func (s *Store) Schedule(ctx context.Context, cellID int64) (cell.Schedule, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Schedule(cellID)).Result()
	if err != nil {
		return cell.Schedule{}, fmt.Errorf("storage: schedule of cell %d: %w", cellID, err)
	}
	sc := cell.Schedule{Cron: h["cron"], Workday: h["workday"] == "1", Place: h["place"]}
	sc.Target, _ = strconv.Atoi(h["target"])
	sc.Version, _ = strconv.Atoi(h["ver"])
	if h["leads"] != "" {
		for _, f := range strings.Split(h["leads"], ",") {
			if n, err := strconv.ParseInt(f, 10, 64); err == nil && n > 0 {
				sc.Leads = append(sc.Leads, time.Duration(n)*time.Second)
			}
		}
	}
	return sc, nil
}

// SetRecurrence sets the cell's recurring meeting and returns the new version of
// the schedule.
func (s *Store) SetRecurrence(ctx context.Context, cellID int64, line string, workday bool, place string) (int, error) {
	key := s.keys.Schedule(cellID)
	var ver *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		wd := "0"
		if workday {
			wd = "1"
		}
		p.HSet(ctx, key, "cron", line, "workday", wd, "place", place)
		ver = p.HIncrBy(ctx, key, "ver", 1)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: set schedule of cell %d: %w", cellID, err)
	}
	return int(ver.Val()), nil
}

// SetLeads sets the cell's reminder lead times.
func (s *Store) SetLeads(ctx context.Context, cellID int64, leads []time.Duration) error {
	parts := make([]string, len(leads))
	for i, d := range leads {
		parts[i] = strconv.FormatInt(int64(d/time.Second), 10)
	}
	if err := s.rdb.HSet(ctx, s.keys.Schedule(cellID), "leads", strings.Join(parts, ",")).Err(); err != nil {
		return fmt.Errorf("storage: set lead times of cell %d: %w", cellID, err)
	}
	return nil
}

// AddHoliday adds a yyyy-mm-dd holiday; it reports whether it was new.
func (s *Store) AddHoliday(ctx context.Context, cellID int64, day string) (bool, error) {
	n, err := s.rdb.SAdd(ctx, s.keys.Holidays(cellID), day).Result()
	if err != nil {
		return false, fmt.Errorf("storage: add holiday of cell %d: %w", cellID, err)
	}
	return n == 1, nil
}

// Holidays returns the cell's holidays, yyyy-mm-dd.
func (s *Store) Holidays(ctx context.Context, cellID int64) ([]string, error) {
	days, err := s.rdb.SMembers(ctx, s.keys.Holidays(cellID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: holidays of cell %d: %w", cellID, err)
	}
	return days, nil
}

// SetAnswer records a member's answer, replacing an earlier one.
func (s *Store) SetAnswer(ctx context.Context, cellID, meetingID, memberID int64, a cell.Answer) error {
	data, err := encodeAnswer(a)
	if err != nil {
		return fmt.Errorf("storage: encode answer: %w", err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Answers(cellID, meetingID), strconv.FormatInt(memberID, 10), data).Err(); err != nil {
		return fmt.Errorf("storage: answer of member %d to meeting %d: %w", memberID, meetingID, err)
	}
	return nil
}

// Answers returns every answer to a meeting, by member id.
func (s *Store) Answers(ctx context.Context, cellID, meetingID int64) (map[int64]cell.Answer, error) {
	return byMember(ctx, s, s.keys.Answers(cellID, meetingID), fmt.Sprintf("answers to meeting %d", meetingID), decodeAnswer)
}

// MeetingAnswer reads a meeting and one member's answer to it in one round
// trip: what is checked before each planned reminder goes. The answer is the
// zero Answer when the member has not answered; a meeting that is gone is
// ErrNotFound.
func (s *Store) MeetingAnswer(ctx context.Context, cellID, meetingID, memberID int64) (cell.Meeting, cell.Answer, error) {
	var mc, ac *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		mc = p.HGet(ctx, s.keys.Meetings(cellID), strconv.FormatInt(meetingID, 10))
		ac = p.HGet(ctx, s.keys.Answers(cellID, meetingID), strconv.FormatInt(memberID, 10))
		return nil
	})
	if errors.Is(mc.Err(), redis.Nil) {
		return cell.Meeting{}, cell.Answer{}, fmt.Errorf("storage: meeting %d of cell %d: %w", meetingID, cellID, ErrNotFound)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return cell.Meeting{}, cell.Answer{}, fmt.Errorf("storage: meeting %d and an answer: %w", meetingID, err)
	}
	var m cell.Meeting
	if err := json.Unmarshal([]byte(mc.Val()), &m); err != nil {
		return cell.Meeting{}, cell.Answer{}, fmt.Errorf("storage: decode meeting %d of cell %d: %w", meetingID, cellID, err)
	}
	if errors.Is(ac.Err(), redis.Nil) {
		return m, cell.Answer{}, nil
	}
	a, err := decodeAnswer(memberID, ac.Val())
	if err != nil {
		return cell.Meeting{}, cell.Answer{}, fmt.Errorf("storage: decode answer of member %d: %w", memberID, err)
	}
	return m, a, nil
}

// AddNotified records the members a meeting's notice was queued for.
func (s *Store) AddNotified(ctx context.Context, cellID, meetingID int64, memberIDs []int64) error {
	if len(memberIDs) == 0 {
		return nil
	}
	args := make([]any, len(memberIDs))
	for i, id := range memberIDs {
		args[i] = id
	}
	if err := s.rdb.SAdd(ctx, s.keys.Notified(cellID, meetingID), args...).Err(); err != nil {
		return fmt.Errorf("storage: notified members of meeting %d: %w", meetingID, err)
	}
	return nil
}

// Notified returns the members a meeting's notice was queued for.
func (s *Store) Notified(ctx context.Context, cellID, meetingID int64) ([]int64, error) {
	vals, err := s.rdb.SMembers(ctx, s.keys.Notified(cellID, meetingID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: notified members of meeting %d: %w", meetingID, err)
	}
	out := make([]int64, 0, len(vals))
	for _, v := range vals {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out, nil
}

// answerScript records an answer while the meeting takes answers.
//
// KEYS[1] meetings HASH, KEYS[2] answers HASH, KEYS[3] by-start ZSET
// ARGV[1] meeting id, ARGV[2] member id, ARGV[3] answer record, ARGV[4] now (unix s)
// Returns false when there is no such meeting, else {meeting JSON, 1 recorded or
// 0 closed (cancelled, closed, or started)}.
var answerScript = newScript(`
local m = redis.call('HGET', KEYS[1], ARGV[1])
if not m then return false end
local st = cjson.decode(m).state
if st ~= 'scheduled' and st ~= 'checkin' then return {m, 0} end
local start = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]))
if start and start <= tonumber(ARGV[4]) then return {m, 0} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return {m, 1}
`)

// ErrClosed is an answer to a meeting that no longer takes answers.
var ErrClosed = errors.New("meeting closed to answers")

// Answer records a member's answer to a meeting while the meeting is scheduled
// or checking in and has not started by now (ErrClosed otherwise; ErrNotFound
// when there is no such meeting), and returns the meeting. In the same round
// trip (after it, in a Cluster) it marks the meeting's counts for the group
// notice (MarkCounts); a refused answer marks them too, and the counts loop then
// finds nothing to edit.
func (s *Store) Answer(ctx context.Context, cellID, meetingID int64, a cell.Answer, now time.Time) (cell.Meeting, error) {
	data, err := encodeAnswer(a)
	if err != nil {
		return cell.Meeting{}, fmt.Errorf("storage: encode answer: %w", err)
	}
	var answer, mark *redis.Cmd
	err = s.pipelined(ctx, func(p *pipe) {
		answer = p.eval(ctx, answerScript,
			[]string{s.keys.Meetings(cellID), s.keys.Answers(cellID, meetingID), s.keys.MeetingsByStart(cellID)},
			meetingID, a.MemberID, data, now.Unix())
		if !s.cluster {
			keys, name := s.countsMark(cellID, meetingID)
			mark = p.eval(ctx, markCountsScript, keys, name)
		}
	})
	if mark == nil && err == nil {
		// In a Cluster the two go to different masters at once: the mark
		// must not land before the answer, or the counts loop could read the
		// answers without it and take the mark as shown.
		err = s.MarkCounts(ctx, cellID, meetingID)
	}
	if err == nil && mark != nil {
		err = mark.Err()
	}
	res, aerr := answer.Slice()
	if errors.Is(aerr, redis.Nil) {
		return cell.Meeting{}, fmt.Errorf("storage: meeting %d of cell %d: %w", meetingID, cellID, ErrNotFound)
	}
	if aerr != nil || err != nil {
		return cell.Meeting{}, fmt.Errorf("storage: answer of member %d to meeting %d: %w", a.MemberID, meetingID, errors.Join(aerr, err))
	}
	js, _ := res[0].(string)
	var m cell.Meeting
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		return cell.Meeting{}, fmt.Errorf("storage: decode meeting %d: %w", meetingID, err)
	}
	if ok, _ := res[1].(int64); ok != 1 {
		return m, ErrClosed
	}
	return m, nil
}
