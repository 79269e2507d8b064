package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
)

// BackupFormat is the version of the cell export's JSON format (CellExport).
// ImportCell refuses any other: bump it when a field changes meaning, and keep
// reading the previous one as long as its files may still be around.
const BackupFormat = 1

// ErrCellExists is returned by ImportCell when the target already has a cell
// with the export's id, or its group is bound to another cell.
var ErrCellExists = errors.New("a cell with that id exists")

// CellExport is one cell's data, as `cellbot cell export` writes it and
// `cellbot cell import` reads it: everything the cell owns in Redis that is
// meant to last. Format 1:
//
//	{
//	  "format": 1,                  // BackupFormat
//	  "exported": "2026-11-30T22:00:00Z",
//	  "cell_id": 3,
//	  "cell": {"name": …, "chat": …, "tz": …, "lang": …, "quiet": …, "join": …, "created": …},
//	  "member_seq": 51,             // last member id given
//	  "members": {"<member id>": {member JSON, as storage keeps it}},
//	  "names": {"<name identity>": "<member id>"},
//	  "users": {"<telegram user id>": "<member id>"},
//	  "joins": {"<telegram user id>": {pending join request}},
//	  "unreachable": {"<member id>": "<unix time>"},
//	  "schedule": {"cron": …, "workday": …, "place": …, "leads": …, "target": …, "ver": …},
//	  "holidays": ["2026-09-02", …],
//	  "meeting_seq": 12,            // last meeting id given
//	  "meeting_origins": {"<origin>": "<meeting id>"},
//	  "meetings": [{
//	    "meeting": {meeting JSON}, "start": <unix seconds>,
//	    "answers": {"<member id>": {answer}}, "notified": [<member id>, …],
//	    "presence": {"<member id>": {presence}}, "outcomes": {"<member id>": "present"|…},
//	    "group": {"msg": …, "shown": …, "edited": …}
//	  }, …]                         // by meeting id
//	}
//
// Not exported, since they only steer the running bot and expire or are made
// again: dialogue states, locks, delivery markers and queue, scheduler items,
// an open check-in, absence-alert markers.
type CellExport struct {
	Format         int                        `json:"format"`
	Exported       time.Time                  `json:"exported"`
	CellID         int64                      `json:"cell_id"`
	Cell           map[string]string          `json:"cell"`
	MemberSeq      int64                      `json:"member_seq"`
	Members        map[string]json.RawMessage `json:"members"`
	Names          map[string]string          `json:"names"`
	Users          map[string]string          `json:"users"`
	Joins          map[string]json.RawMessage `json:"joins"`
	Unreachable    map[string]string          `json:"unreachable"`
	Schedule       map[string]string          `json:"schedule"`
	Holidays       []string                   `json:"holidays"`
	MeetingSeq     int64                      `json:"meeting_seq"`
	MeetingOrigins map[string]string          `json:"meeting_origins"`
	Meetings       []MeetingExport            `json:"meetings"`
}

// MeetingExport is one meeting of a CellExport, with what members said and did.
type MeetingExport struct {
	Meeting  json.RawMessage            `json:"meeting"`
	Start    int64                      `json:"start"`
	Answers  map[string]json.RawMessage `json:"answers"`
	Notified []string                   `json:"notified"`
	Presence map[string]json.RawMessage `json:"presence"`
	Outcomes map[string]string          `json:"outcomes"`
	Group    map[string]string          `json:"group"`
	// Corrections made after /close: each member's latest, and every one in
	// order (who, when, from, to).
	Corrections   map[string]json.RawMessage `json:"corrections,omitempty"`
	CorrectionLog []json.RawMessage          `json:"correction_log,omitempty"`
}

// ExportCell reads one cell's data. ErrNotFound when there is no such cell.
func (s *Store) ExportCell(ctx context.Context, cellID int64, now time.Time) (*CellExport, error) {
	k := s.keys
	e := &CellExport{Format: BackupFormat, Exported: now.UTC().Truncate(time.Second), CellID: cellID}
	var err error
	hash := func(key string) map[string]string {
		if err != nil {
			return nil
		}
		var h map[string]string
		h, err = s.rdb.HGetAll(ctx, key).Result()
		return h
	}
	jsonHash := func(key string) map[string]json.RawMessage {
		h := hash(key)
		if err != nil {
			return nil
		}
		out := make(map[string]json.RawMessage, len(h))
		for f, v := range h {
			if !json.Valid([]byte(v)) {
				err = fmt.Errorf("%s field %s is not JSON", key, f)
				return nil
			}
			out[f] = json.RawMessage(v)
		}
		return out
	}
	// A meeting's answers and presence are kept short (records.go); the
	// export has the JSON of their domain types, as it always had.
	records := func(key string, asJSON func(id int64, v string) (any, error)) map[string]json.RawMessage {
		h := hash(key)
		if err != nil {
			return nil
		}
		out := make(map[string]json.RawMessage, len(h))
		for f, v := range h {
			if strings.HasPrefix(v, "{") {
				if !json.Valid([]byte(v)) {
					err = fmt.Errorf("%s field %s is not JSON", key, f)
					return nil
				}
				out[f] = json.RawMessage(v) // written by the previous version: as it is
				continue
			}
			id, perr := strconv.ParseInt(f, 10, 64)
			var rec any
			if perr == nil {
				rec, perr = asJSON(id, v)
			}
			var data []byte
			if perr == nil {
				data, perr = json.Marshal(rec)
			}
			if perr != nil {
				err = fmt.Errorf("%s field %s: %w", key, f, perr)
				return nil
			}
			out[f] = data
		}
		return out
	}
	seq := func(key string) int64 {
		if err != nil {
			return 0
		}
		var n int64
		n, err = s.rdb.Get(ctx, key).Int64()
		if errors.Is(err, redis.Nil) {
			n, err = 0, nil
		}
		return n
	}
	set := func(key string) []string {
		if err != nil {
			return nil
		}
		var v []string
		v, err = s.rdb.SMembers(ctx, key).Result()
		slices.Sort(v)
		return v
	}

	e.Cell = hash(k.Cell(cellID))
	if err == nil && len(e.Cell) == 0 {
		return nil, fmt.Errorf("storage: export cell %d: %w", cellID, ErrNotFound)
	}
	e.MemberSeq = seq(k.MemberSeq(cellID))
	e.Members = jsonHash(k.Members(cellID))
	e.Names = hash(k.Names(cellID))
	e.Users = hash(k.Users(cellID))
	e.Joins = jsonHash(k.Joins(cellID))
	e.Unreachable = hash(k.Unreachable(cellID))
	e.Schedule = hash(k.Schedule(cellID))
	e.Holidays = set(k.Holidays(cellID))
	e.MeetingSeq = seq(k.MeetingSeq(cellID))
	e.MeetingOrigins = hash(k.MeetingOrigins(cellID))
	meetings := jsonHash(k.Meetings(cellID))
	if err != nil {
		return nil, fmt.Errorf("storage: export cell %d: %w", cellID, err)
	}
	ids := make([]int64, 0, len(meetings))
	for f := range meetings {
		id, perr := strconv.ParseInt(f, 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("storage: export cell %d: meeting id %q", cellID, f)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		f := strconv.FormatInt(id, 10)
		m := MeetingExport{Meeting: meetings[f]}
		var score float64
		score, err = s.rdb.ZScore(ctx, k.MeetingsByStart(cellID), f).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		m.Start = int64(score)
		m.Answers = records(k.Answers(cellID, id), func(id int64, v string) (any, error) { return decodeAnswer(id, v) })
		m.Notified = set(k.Notified(cellID, id))
		m.Presence = records(k.Presence(cellID, id), func(id int64, v string) (any, error) { return decodePresence(id, v) })
		m.Outcomes = hash(k.Outcomes(cellID, id))
		m.Group = hash(k.GroupNotice(cellID, id))
		if m.Corrections = jsonHash(k.Corrections(cellID, id)); len(m.Corrections) == 0 {
			m.Corrections = nil
		}
		if err == nil {
			var log []string
			log, err = s.rdb.LRange(ctx, k.CorrectionLog(cellID, id), 0, -1).Result()
			for _, v := range log {
				m.CorrectionLog = append(m.CorrectionLog, json.RawMessage(v))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("storage: export meeting %d of cell %d: %w", id, cellID, err)
		}
		e.Meetings = append(e.Meetings, m)
	}
	return e, nil
}

// ImportCell writes a cell exported by ExportCell, under its own id: the cell's
// keys in one transaction, then its group binding, join link, the cell list and
// the members' lists of cells. It refuses (ErrCellExists) when the id is taken
// or the group is bound to another cell, and makes sure new cells get higher ids.
func (s *Store) ImportCell(ctx context.Context, e *CellExport) error {
	if e.Format != BackupFormat {
		return fmt.Errorf("storage: import cell: format %d, this version reads format %d", e.Format, BackupFormat)
	}
	id := e.CellID
	if id <= 0 || len(e.Cell) == 0 {
		return errors.New("storage: import cell: no cell id or settings in the file")
	}
	k := s.keys
	if n, err := s.rdb.Exists(ctx, k.Cell(id)).Result(); err != nil {
		return fmt.Errorf("storage: import cell %d: %w", id, err)
	} else if n > 0 {
		return fmt.Errorf("storage: import cell %d: %w", id, ErrCellExists)
	}
	chat, _ := strconv.ParseInt(e.Cell["chat"], 10, 64)
	if chat != 0 {
		bound, err := s.rdb.Get(ctx, k.ChatCell(chat)).Int64()
		if err == nil && bound != id {
			return fmt.Errorf("storage: import cell %d: its group %d is bound to cell %d: %w", id, chat, bound, ErrCellExists)
		} else if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("storage: import cell %d: %w", id, err)
		}
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		hset := func(key string, h map[string]string) {
			if len(h) > 0 {
				p.HSet(ctx, key, h)
			}
		}
		jhset := func(key string, h map[string]json.RawMessage) {
			if len(h) > 0 {
				m := make(map[string]string, len(h))
				for f, v := range h {
					m[f] = compact(v)
				}
				p.HSet(ctx, key, m)
			}
		}
		// Answers and presence are written short, as the store writes them;
		// a record that is not an answer or presence is kept as it came.
		records := func(key string, h map[string]json.RawMessage, encode func(v json.RawMessage) (string, error)) {
			if len(h) > 0 {
				m := make(map[string]string, len(h))
				for f, v := range h {
					r, err := encode(v)
					if err != nil {
						r = compact(v)
					}
					m[f] = r
				}
				p.HSet(ctx, key, m)
			}
		}
		answer := func(v json.RawMessage) (string, error) {
			var a cell.Answer
			if err := json.Unmarshal(v, &a); err != nil {
				return "", err
			}
			return encodeAnswer(a)
		}
		presence := func(v json.RawMessage) (string, error) {
			var pr cell.Presence
			if err := json.Unmarshal(v, &pr); err != nil {
				return "", err
			}
			return encodePresence(pr)
		}
		hset(k.Cell(id), e.Cell)
		if e.MemberSeq > 0 {
			p.Set(ctx, k.MemberSeq(id), e.MemberSeq, 0)
		}
		jhset(k.Members(id), e.Members)
		hset(k.Names(id), e.Names)
		hset(k.Users(id), e.Users)
		jhset(k.Joins(id), e.Joins)
		hset(k.Unreachable(id), e.Unreachable)
		hset(k.Schedule(id), e.Schedule)
		if len(e.Holidays) > 0 {
			p.SAdd(ctx, k.Holidays(id), toAny(e.Holidays)...)
		}
		if e.MeetingSeq > 0 {
			p.Set(ctx, k.MeetingSeq(id), e.MeetingSeq, 0)
		}
		hset(k.MeetingOrigins(id), e.MeetingOrigins)
		for _, m := range e.Meetings {
			var head struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(m.Meeting, &head); err != nil || head.ID <= 0 {
				return fmt.Errorf("a meeting without an id: %s", m.Meeting)
			}
			f := strconv.FormatInt(head.ID, 10)
			p.HSet(ctx, k.Meetings(id), f, compact(m.Meeting))
			p.ZAdd(ctx, k.MeetingsByStart(id), redis.Z{Score: float64(m.Start), Member: f})
			records(k.Answers(id, head.ID), m.Answers, answer)
			if len(m.Notified) > 0 {
				p.SAdd(ctx, k.Notified(id, head.ID), toAny(m.Notified)...)
			}
			records(k.Presence(id, head.ID), m.Presence, presence)
			hset(k.Outcomes(id, head.ID), m.Outcomes)
			hset(k.GroupNotice(id, head.ID), m.Group)
			jhset(k.Corrections(id, head.ID), m.Corrections)
			for _, c := range m.CorrectionLog {
				p.RPush(ctx, k.CorrectionLog(id, head.ID), compact(c))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: import cell %d: %w", id, err)
	}
	// New cells must not take this id: raise the sequence to it.
	if err := raiseSeqScript.Run(ctx, s.rdb, []string{k.CellSeq()}, id).Err(); err != nil {
		return fmt.Errorf("storage: import cell %d: cell sequence: %w", id, err)
	}
	if tok := e.Cell["join"]; tok != "" {
		if err := s.rdb.Set(ctx, k.JoinToken(tok), id, 0).Err(); err != nil {
			return fmt.Errorf("storage: import cell %d: join link: %w", id, err)
		}
	}
	if chat != 0 {
		if err := s.rdb.Set(ctx, k.ChatCell(chat), id, 0).Err(); err != nil {
			return fmt.Errorf("storage: import cell %d: bind chat %d: %w", id, chat, err)
		}
	}
	if err := s.rdb.SAdd(ctx, k.Cells(), id).Err(); err != nil {
		return fmt.Errorf("storage: import cell %d: list it: %w", id, err)
	}
	for u := range e.Users {
		uid, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			continue
		}
		_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, k.UserCells(uid), id)
			p.HSetNX(ctx, k.User(uid), "cell", id) // their private commands' cell, unless they have one
			p.Persist(ctx, k.User(uid))            // a member is kept (UserTTL is for passers-by)
			return nil
		})
		if err != nil {
			return fmt.Errorf("storage: import cell %d: cells of user %d: %w", id, uid, err)
		}
	}
	return nil
}

// raiseSeqScript sets a sequence to ARGV[1] when it is lower.
// KEYS[1] sequence STRING; ARGV[1] the least value.
var raiseSeqScript = newScript(`
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 0
`)

// compact is a JSON value as storage keeps it: without the file's indentation.
func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
