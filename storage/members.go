package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/redis/go-redis/v9"
)

// More sentinel errors of the roster.
var (
	ErrUserLinked   = errors.New("telegram account already linked to a member")
	ErrMemberLinked = errors.New("member already linked to another account")
	// ErrNameListed: a join request under a new name that is a roster entry's
	// name (the same identity, cell.Key). Such a name can only claim that entry.
	ErrNameListed = errors.New("the name is a roster entry's")
)

func encodeMember(m cell.Member) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("storage: encode member %q: %w", m.Name, err)
	}
	return string(b), nil
}

func decodeMember(s string) (cell.Member, error) {
	var m cell.Member
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return cell.Member{}, fmt.Errorf("storage: decode member: %w", err)
	}
	return m, nil
}

// Members returns the cell's roster, by member id.
func (s *Store) Members(ctx context.Context, cellID int64) ([]cell.Member, error) {
	return s.members(ctx, s.rdb, cellID)
}

func (s *Store) members(ctx context.Context, c redis.Cmdable, cellID int64) ([]cell.Member, error) {
	h, err := c.HGetAll(ctx, s.keys.Members(cellID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: roster of cell %d: %w", cellID, err)
	}
	out := make([]cell.Member, 0, len(h))
	for _, v := range h {
		m, err := decodeMember(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b cell.Member) int { return int(a.ID - b.ID) })
	return out, nil
}

// Member returns one member.
func (s *Store) Member(ctx context.Context, cellID, memberID int64) (cell.Member, error) {
	v, err := s.rdb.HGet(ctx, s.keys.Members(cellID), strconv.FormatInt(memberID, 10)).Result()
	if errors.Is(err, redis.Nil) {
		return cell.Member{}, ErrNotFound
	}
	if err != nil {
		return cell.Member{}, fmt.Errorf("storage: member %d of cell %d: %w", memberID, cellID, err)
	}
	return decodeMember(v)
}

// MemberByUser returns the member a Telegram account is linked to in a cell.
func (s *Store) MemberByUser(ctx context.Context, cellID, userID int64) (cell.Member, error) {
	id, err := s.rdb.HGet(ctx, s.keys.Users(cellID), strconv.FormatInt(userID, 10)).Int64()
	if errors.Is(err, redis.Nil) {
		return cell.Member{}, ErrNotFound
	}
	if err != nil {
		return cell.Member{}, fmt.Errorf("storage: member of user %d in cell %d: %w", userID, cellID, err)
	}
	return s.Member(ctx, cellID, id)
}

// cellTx runs fn as an optimistic transaction over keys of one cell (one hash
// slot), retrying when another client changed them meanwhile.
func (s *Store) cellTx(ctx context.Context, fn func(tx *redis.Tx) error, keys ...string) error {
	for range 20 {
		err := s.rdb.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("storage: too much contention on %v", keys)
}

// ImportResult counts what an import changed. Linked counts unlisted records
// (the secretary's from /setup) joined to their roster entry.
type ImportResult struct{ Added, Updated, Linked int }

// ImportMembers adds or updates members by name, all in one transaction: either
// every line lands or none. A line is the member whose name has the same
// identity (cell.Key: marks count, case does not), so namesakes that differ
// only in their accents are two members. Linked accounts and committee roles
// are kept on update. A line with the name of an unlisted record (the one
// /setup made from the secretary's Telegram name), in either order of the
// Telegram first and last names, becomes that record: it is linked, never
// duplicated.
func (s *Store) ImportMembers(ctx context.Context, cellID int64, in []cell.Member) (ImportResult, error) {
	var res ImportResult
	k := s.keys
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		res = ImportResult{}
		names, err := tx.HGetAll(ctx, k.Names(cellID)).Result()
		if err != nil {
			return err
		}
		current, err := s.members(ctx, tx, cellID)
		if err != nil {
			return err
		}
		byID := map[int64]cell.Member{}
		alias := map[string]int64{}
		for _, m := range current {
			byID[m.ID] = m
			if m.Unlisted && m.Alias != "" {
				alias[cell.Key(m.Alias)] = m.ID
			}
		}
		next, err := tx.Get(ctx, k.MemberSeq(cellID)).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		members := map[string]any{}
		newNames := map[string]any{}
		var oldNames []string
		used := map[int64]bool{}
		for _, m := range in {
			key := cell.Key(m.Name)
			var id int64
			if idStr, ok := names[key]; ok {
				id, _ = strconv.ParseInt(idStr, 10, 64)
			} else if a, ok := alias[key]; ok {
				id = a
			}
			if old, ok := byID[id]; ok && id != 0 && !used[id] {
				old.Standing, old.Participation, old.Until, old.Reason = m.Standing, m.Participation, m.Until, m.Reason
				// A member who left and is imported again is back, with
				// their history.
				old.Left, old.LeftCause = "", ""
				if old.Unlisted {
					if was := cell.Key(old.Name); was != key {
						oldNames = append(oldNames, was)
					}
					old.Name, old.Unlisted, old.Alias, old.OffRoster = m.Name, false, "", false
					res.Linked++
				}
				m = old
				newNames[key] = m.ID
				res.Updated++
			} else {
				next++
				m.ID = next
				m.UserID, m.Role, m.Unlisted, m.Alias, m.OffRoster = 0, cell.RoleMember, false, "", false
				newNames[key] = next
				names[key] = strconv.FormatInt(next, 10)
				res.Added++
			}
			used[m.ID] = true
			data, err := encodeMember(m)
			if err != nil {
				return err
			}
			members[strconv.FormatInt(m.ID, 10)] = data
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if len(oldNames) > 0 {
				p.HDel(ctx, k.Names(cellID), oldNames...)
			}
			if len(members) > 0 {
				p.HSet(ctx, k.Members(cellID), members)
			}
			if len(newNames) > 0 {
				p.HSet(ctx, k.Names(cellID), newNames)
			}
			p.Set(ctx, k.MemberSeq(cellID), next, 0)
			return nil
		})
		return err
	}, k.Names(cellID), k.Members(cellID), k.MemberSeq(cellID))
	if err != nil {
		return ImportResult{}, fmt.Errorf("storage: import %d members into cell %d: %w", len(in), cellID, err)
	}
	return res, nil
}

// UpdateMember changes one member atomically with fn. It cannot change the name,
// the id or the linked account.
func (s *Store) UpdateMember(ctx context.Context, cellID, memberID int64, fn func(*cell.Member) error) (cell.Member, error) {
	var out cell.Member
	key := s.keys.Members(cellID)
	field := strconv.FormatInt(memberID, 10)
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		v, err := tx.HGet(ctx, key, field).Result()
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		m, err := decodeMember(v)
		if err != nil {
			return err
		}
		id, name, user := m.ID, m.Name, m.UserID
		if err := fn(&m); err != nil {
			return err
		}
		m.ID, m.Name, m.UserID = id, name, user
		data, err := encodeMember(m)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, field, data)
			return nil
		})
		out = m
		return err
	}, key)
	if err != nil {
		return cell.Member{}, fmt.Errorf("storage: update member %d of cell %d: %w", memberID, cellID, err)
	}
	return out, nil
}

// JoinRequest is a Telegram user asking to join a cell, waiting for the committee.
type JoinRequest struct {
	UserID   int64  `json:"user_id"`
	Name     string `json:"name"`      // the name the user gave or picked
	MemberID int64  `json:"member_id"` // the roster entry picked, 0 for a new member
	Username string `json:"username,omitempty"`
	Lang     string `json:"lang,omitempty"`
	// When it was made (unix ns), which the notice's buttons carry, so
	// that an old notice cannot settle a newer claim; and the Telegram name.
	At     int64  `json:"at,omitempty"`
	TGName string `json:"tg_name,omitempty"`
}

// AddJoinRequest records (or replaces) a user's pending request as it is,
// without the checks of RequestJoin: for seeding a cell (tests, the sandbox).
func (s *Store) AddJoinRequest(ctx context.Context, cellID int64, r JoinRequest) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("storage: encode join request: %w", err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Joins(cellID), strconv.FormatInt(r.UserID, 10), b).Err(); err != nil {
		return fmt.Errorf("storage: join request of user %d to cell %d: %w", r.UserID, cellID, err)
	}
	return s.markJoinPending(ctx, r.UserID, cellID)
}

// JoinRequestOf returns a user's pending request.
func (s *Store) JoinRequestOf(ctx context.Context, cellID, userID int64) (JoinRequest, error) {
	v, err := s.rdb.HGet(ctx, s.keys.Joins(cellID), strconv.FormatInt(userID, 10)).Result()
	if errors.Is(err, redis.Nil) {
		return JoinRequest{}, ErrNotPending
	}
	if err != nil {
		return JoinRequest{}, fmt.Errorf("storage: join request of user %d: %w", userID, err)
	}
	var r JoinRequest
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return JoinRequest{}, fmt.Errorf("storage: decode join request: %w", err)
	}
	return r, nil
}

// ConfirmJoin settles a pending request (see ConfirmJoinRequest).
func (s *Store) ConfirmJoin(ctx context.Context, cellID, userID int64) (cell.Member, error) {
	return s.ConfirmJoinAt(ctx, cellID, userID, -1)
}

// ConfirmJoinAt is ConfirmJoinRequest, returning the member only.
func (s *Store) ConfirmJoinAt(ctx context.Context, cellID, userID, at int64) (cell.Member, error) {
	j, err := s.ConfirmJoinRequest(ctx, cellID, userID, at)
	return j.Member, err
}

// Joined is a confirmed join.
type Joined struct {
	Member cell.Member // the entry now linked to the account, or the member added
	Added  bool        // the request was under a new name, now on the roster
	// Rights are the committee rights the entry had before (cell.RoleMember for
	// none). A join never passes them on: the account is linked as a plain
	// member, and the secretary gives rights again with /promote.
	Rights cell.Role
}

// confirmJoinScript links a join request's account to its roster entry, or adds
// the new name it gives, if nothing it was read with changed: the request is the
// one read, the account is linked to nobody in the cell, and the entry is still
// unlinked (a new name: still no entry's, and the member sequence where it was).
//
// KEYS[1] joins HASH, KEYS[2] users HASH, KEYS[3] members HASH, KEYS[4] names
// HASH, KEYS[5] member sequence STRING
// ARGV[1] user id, ARGV[2] the request as read, ARGV[3] the member id, ARGV[4]
// the entry as read ("" for a new name), ARGV[5] the member once linked (JSON),
// ARGV[6] the new name's identity, ARGV[7] the member sequence as read
// Returns 0 linked; 1 no request pending; 2 the account is linked in the cell;
// 3 the entry is gone; 4 the entry is linked to an account; 5 the new name is
// an entry's now (the request is dropped); 6 something read changed: read again.
var confirmJoinScript = newScript(`
local req = redis.call('HGET', KEYS[1], ARGV[1])
if not req then return 1 end
if req ~= ARGV[2] then return 6 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 2 end
if ARGV[4] ~= '' then
  local e = redis.call('HGET', KEYS[3], ARGV[3])
  if not e then return 3 end
  local m = cjson.decode(e)
  local uid = m['user_id']
  if (type(uid) == 'number' and uid ~= 0) or m['unlisted'] == true then return 4 end
  if e ~= ARGV[4] then return 6 end
else
  if redis.call('HEXISTS', KEYS[4], ARGV[6]) == 1 then
    redis.call('HDEL', KEYS[1], ARGV[1])
    return 5
  end
  if (redis.call('GET', KEYS[5]) or '0') ~= ARGV[7] then return 6 end
  redis.call('SET', KEYS[5], ARGV[3])
  redis.call('HSET', KEYS[4], ARGV[6], ARGV[3])
end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[1], ARGV[1])
return 0
`)

// ConfirmJoinRequest settles a pending request at once, checked in one script:
// the roster entry it claims is linked to the account, as a plain member
// whatever rights the entry had, provided it is still unlinked; a new name is
// added as a new member provided no entry has that name now; the request is
// removed. A request already settled gives ErrNotPending, so that committee
// members pressing at once confirm it once, and so does a request made again
// since, when at is not the one the caller showed (at < 0: any). Also
// ErrUserLinked (the account is linked in the cell already), ErrMemberLinked
// (the entry has another account), ErrNotFound (the entry is gone) and
// ErrNameListed (the new name is an entry's: the request is dropped, the user
// must ask again for that entry).
func (s *Store) ConfirmJoinRequest(ctx context.Context, cellID, userID, at int64) (Joined, error) {
	return s.ConfirmJoinAs(ctx, cellID, userID, at, cell.Official, cell.Regular)
}

// ConfirmJoinAs is ConfirmJoinRequest adding a new name with the standing and
// participation the confirming committee member chose; a request for a roster
// entry keeps the entry's.
func (s *Store) ConfirmJoinAs(ctx context.Context, cellID, userID, at int64, standing cell.Standing, part cell.Participation) (Joined, error) {
	k := s.keys
	uid := strconv.FormatInt(userID, 10)
	keys := []string{k.Joins(cellID), k.Users(cellID), k.Members(cellID), k.Names(cellID), k.MemberSeq(cellID)}
	wrap := func(err error) error {
		return fmt.Errorf("storage: confirm join of user %d to cell %d: %w", userID, cellID, err)
	}
	for range 20 {
		raw, err := s.rdb.HGet(ctx, k.Joins(cellID), uid).Result()
		if errors.Is(err, redis.Nil) {
			return Joined{}, wrap(ErrNotPending)
		}
		if err != nil {
			return Joined{}, wrap(err)
		}
		var r JoinRequest
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return Joined{}, wrap(err)
		}
		if at >= 0 && r.At != at {
			return Joined{}, wrap(ErrNotPending)
		}
		var out Joined
		var was, key, seq string
		m := cell.Member{Name: r.Name, Standing: standing, Participation: part}
		if r.MemberID != 0 {
			was, err = s.rdb.HGet(ctx, k.Members(cellID), strconv.FormatInt(r.MemberID, 10)).Result()
			if errors.Is(err, redis.Nil) {
				return Joined{}, wrap(ErrNotFound)
			}
			if err != nil {
				return Joined{}, wrap(err)
			}
			if m, err = decodeMember(was); err != nil {
				return Joined{}, wrap(err)
			}
			out.Rights = m.Role
		} else {
			n, err := s.rdb.Get(ctx, k.MemberSeq(cellID)).Int64()
			if err != nil && !errors.Is(err, redis.Nil) {
				return Joined{}, wrap(err)
			}
			m.ID, key, seq, out.Added = n+1, cell.Key(r.Name), strconv.FormatInt(n, 10), true
		}
		m.UserID, m.Role = userID, cell.RoleMember
		now, err := encodeMember(m)
		if err != nil {
			return Joined{}, wrap(err)
		}
		code, err := confirmJoinScript.Run(ctx, s.rdb, keys, uid, raw, m.ID, was, now, key, seq).Int()
		if err != nil {
			return Joined{}, wrap(err)
		}
		switch code {
		case 0:
			out.Member = m
			return out, s.AddUserCell(ctx, userID, cellID)
		case 1:
			return Joined{}, wrap(ErrNotPending)
		case 2:
			return Joined{}, wrap(ErrUserLinked)
		case 3:
			return Joined{}, wrap(ErrNotFound)
		case 4:
			return Joined{}, wrap(ErrMemberLinked)
		case 5:
			return Joined{}, errors.Join(wrap(ErrNameListed), s.clearJoinPending(ctx, userID, cellID))
		}
	}
	return Joined{}, wrap(errors.New("too much contention"))
}

// RejectJoin removes a pending request; ErrNotPending when it was already settled.
func (s *Store) RejectJoin(ctx context.Context, cellID, userID int64) (JoinRequest, error) {
	return s.RejectJoinAt(ctx, cellID, userID, -1)
}

// MarkUnreachable records that the bot cannot write to a member and reports
// whether this is news (so the committee is told once).
func (s *Store) MarkUnreachable(ctx context.Context, cellID, memberID int64, at int64) (bool, error) {
	ok, err := s.rdb.HSetNX(ctx, s.keys.Unreachable(cellID), strconv.FormatInt(memberID, 10), at).Result()
	if err != nil {
		return false, fmt.Errorf("storage: mark member %d unreachable: %w", memberID, err)
	}
	return ok, nil
}

// ClearUnreachable forgets that a member was unreachable (they opened the bot).
func (s *Store) ClearUnreachable(ctx context.Context, cellID, memberID int64) error {
	if err := s.rdb.HDel(ctx, s.keys.Unreachable(cellID), strconv.FormatInt(memberID, 10)).Err(); err != nil {
		return fmt.Errorf("storage: clear unreachable member %d: %w", memberID, err)
	}
	return nil
}

// IsUnreachable reports whether the bot cannot write to one member.
func (s *Store) IsUnreachable(ctx context.Context, cellID, memberID int64) (bool, error) {
	ok, err := s.rdb.HExists(ctx, s.keys.Unreachable(cellID), strconv.FormatInt(memberID, 10)).Result()
	if err != nil {
		return false, fmt.Errorf("storage: is member %d unreachable: %w", memberID, err)
	}
	return ok, nil
}

// Unreachable returns the ids of the cell's members the bot cannot write to.
func (s *Store) Unreachable(ctx context.Context, cellID int64) (map[int64]bool, error) {
	ids, err := s.rdb.HKeys(ctx, s.keys.Unreachable(cellID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: unreachable members of cell %d: %w", cellID, err)
	}
	out := make(map[int64]bool, len(ids))
	for _, v := range ids {
		id, _ := strconv.ParseInt(v, 10, 64)
		out[id] = true
	}
	return out, nil
}
