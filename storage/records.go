package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// A meeting's answers and presence are kept one record per member, in a hash
// whose field is the member id: twelve meetings a year of a 51-member cell make
// about a thousand records, most of what a cell's year costs Redis. Redis keeps
// such a hash compact (a listpack) only while every value is at most
// hash-max-listpack-value bytes, 64 by default, so the records are short text
// rather than JSON of the domain types:
//
//	answer:   <kind><unix seconds>[<reason><reason text>]   c1812345678  e1812345678oCon nhỏ bị ốm
//	presence: <mark><unix seconds>                           q1812345678
//
// kind, reason and mark are one letter each (the tables below); the seconds
// are empty for a zero time; the reason text, when there is one, is the rest
// of the value, as the member typed it. The member is the hash field and is
// not repeated. Times keep whole seconds: nothing reads their fraction (they
// only order one member's records) or their zone (they decode in UTC).
//
// The previous version kept the JSON of cell.Answer and cell.Presence, which
// begins with "{" where these begin with a letter. Records written then are
// read as they are, for ever; and a record the short form cannot say (a kind
// or mark it has no letter for, a reason text without a reason) is written as
// that JSON still.
var (
	answerKinds = map[cell.AnswerKind]byte{cell.Coming: 'c', cell.Excused: 'e', cell.Unsure: 'u'}
	reasonCodes = map[cell.ReasonCategory]byte{cell.ReasonWork: 'w', cell.ReasonIllness: 'i', cell.ReasonFamily: 'f', cell.ReasonOther: 'o'}
	markCodes   = map[cell.PresenceMark]byte{
		cell.PresentByCode: 'c', cell.PresentByQR: 'q', cell.PresentByCard: 'k', cell.PresentByRollCall: 'r', cell.MarkedAbsent: 'a',
	}
)

// luaPresent defines present(v), true when a presence record (either form)
// says the member came, for scripts that keep a member's first check-in. Its
// letters are those of markCodes for the marks cell.Presence.Present counts.
const luaPresent = `
local function present(v)
  local c = string.sub(v, 1, 1)
  if c ~= '{' then return c == 'c' or c == 'q' or c == 'k' or c == 'r' end
  local ok, p = pcall(cjson.decode, v)
  return ok and type(p) == 'table' and (p.mark == 'qr' or p.mark == 'code' or p.mark == 'rollcall' or p.mark == 'card')
end
`

// encodeAnswer is a's record in a meeting's answers hash.
func encodeAnswer(a cell.Answer) (string, error) {
	k, ok := answerKinds[a.Kind]
	r, rok := reasonCodes[a.Reason]
	if !ok || (a.Reason != "" && !rok) || (a.Reason == "" && a.ReasonText != "") {
		return legacyRecord(a)
	}
	b := appendTime(append(make([]byte, 0, 12+len(a.ReasonText)), k), a.At)
	if a.Reason != "" {
		b = append(append(b, r), a.ReasonText...)
	}
	return string(b), nil
}

// decodeAnswer reads a record of a meeting's answers hash, in either form;
// memberID is its field.
func decodeAnswer(memberID int64, v string) (cell.Answer, error) {
	if strings.HasPrefix(v, "{") {
		var a cell.Answer
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return cell.Answer{}, err
		}
		if a.MemberID == 0 {
			a.MemberID = memberID
		}
		return a, nil
	}
	a := cell.Answer{MemberID: memberID}
	kind, at, rest, err := splitRecord(v)
	if err != nil {
		return cell.Answer{}, err
	}
	if a.Kind, err = lookup(answerKinds, kind); err != nil {
		return cell.Answer{}, fmt.Errorf("answer %q: %w", v, err)
	}
	a.At = at
	if rest != "" {
		if a.Reason, err = lookup(reasonCodes, rest[0]); err != nil {
			return cell.Answer{}, fmt.Errorf("answer %q: %w", v, err)
		}
		a.ReasonText = rest[1:]
	}
	return a, nil
}

// encodePresence is p's record in a meeting's presence hash.
func encodePresence(p cell.Presence) (string, error) {
	m, ok := markCodes[p.Mark]
	if !ok {
		return legacyRecord(p)
	}
	return string(appendTime([]byte{m}, p.At)), nil
}

// decodePresence reads a record of a meeting's presence hash, in either
// form; memberID is its field.
func decodePresence(memberID int64, v string) (cell.Presence, error) {
	if strings.HasPrefix(v, "{") {
		var p cell.Presence
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return cell.Presence{}, err
		}
		if p.MemberID == 0 {
			p.MemberID = memberID
		}
		return p, nil
	}
	mark, at, rest, err := splitRecord(v)
	if err != nil {
		return cell.Presence{}, err
	}
	p := cell.Presence{MemberID: memberID, At: at}
	if p.Mark, err = lookup(markCodes, mark); err != nil || rest != "" {
		return cell.Presence{}, fmt.Errorf("presence %q: not a presence record", v)
	}
	return p, nil
}

// legacyRecord is the previous version's record: the JSON of the domain type.
func legacyRecord(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(data), nil
}

// appendTime appends t in unix seconds, nothing for a zero time.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return strconv.AppendInt(b, t.Unix(), 10)
}

// splitRecord splits a short record into its letter, its time and the rest.
func splitRecord(v string) (byte, time.Time, string, error) {
	if v == "" {
		return 0, time.Time{}, "", fmt.Errorf("empty record")
	}
	end := 1
	if end < len(v) && v[end] == '-' {
		end++
	}
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	digits := v[1:end]
	if digits == "" {
		return v[0], time.Time{}, v[end:], nil
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, time.Time{}, "", fmt.Errorf("record %q: time: %w", v, err)
	}
	return v[0], time.Unix(n, 0).UTC(), v[end:], nil
}

// lookup finds the value a letter stands for in one of the tables.
func lookup[T ~string](table map[T]byte, code byte) (T, error) {
	for v, c := range table {
		if c == code {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown letter %q", code)
}

// byMember reads a hash keyed by member id (a meeting's answers, presences,
// corrections), decoding each value with decode; a field that is not a member
// id is skipped. what names the hash in errors.
func byMember[T any](ctx context.Context, s *Store, key, what string, decode func(memberID int64, v string) (T, error)) (map[int64]T, error) {
	h, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	out := make(map[int64]T, len(h))
	for k, v := range h {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			continue
		}
		x, err := decode(id, v)
		if err != nil {
			return nil, fmt.Errorf("storage: decode %s, member %s: %w", what, k, err)
		}
		out[id] = x
	}
	return out, nil
}
