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
	// issue 11: when it was made (unix ns), which the notice's buttons carry, so
	// that an old notice cannot settle a newer claim; and the Telegram name.
	At     int64  `json:"at,omitempty"`
	TGName string `json:"tg_name,omitempty"`
}

// AddJoinRequest records (or replaces) a user's pending request.
func (s *Store) AddJoinRequest(ctx context.Context, cellID int64, r JoinRequest) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("storage: encode join request: %w", err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Joins(cellID), strconv.FormatInt(r.UserID, 10), b).Err(); err != nil {
		return fmt.Errorf("storage: join request of user %d to cell %d: %w", r.UserID, cellID, err)
	}
	return nil
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

// ConfirmJoin settles a pending request in one transaction: the roster entry it
// names is linked to the account (or a new member is added) and the request is
// removed. A request already settled gives ErrNotPending, so two committee
// members pressing at once confirm it once.
func (s *Store) ConfirmJoin(ctx context.Context, cellID, userID int64) (cell.Member, error) {
	return s.ConfirmJoinAt(ctx, cellID, userID, -1)
}

// ConfirmJoinAt is ConfirmJoin of the request made at at only (any for at < 0):
// a request made again since gives ErrNotPending.
func (s *Store) ConfirmJoinAt(ctx context.Context, cellID, userID, at int64) (cell.Member, error) {
	k := s.keys
	uid := strconv.FormatInt(userID, 10)
	var out cell.Member
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		v, err := tx.HGet(ctx, k.Joins(cellID), uid).Result()
		if errors.Is(err, redis.Nil) {
			return ErrNotPending
		}
		if err != nil {
			return err
		}
		var r JoinRequest
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return err
		}
		if at >= 0 && r.At != at {
			return ErrNotPending
		}
		if linked, err := tx.HExists(ctx, k.Users(cellID), uid).Result(); err != nil {
			return err
		} else if linked {
			return ErrUserLinked
		}
		var m cell.Member
		newMember := r.MemberID == 0
		if newMember {
			// A name given at joining may match one imported meanwhile.
			if id, err := tx.HGet(ctx, k.Names(cellID), cell.Key(r.Name)).Int64(); err == nil {
				r.MemberID, newMember = id, false
			}
		}
		if newMember {
			next, err := tx.Get(ctx, k.MemberSeq(cellID)).Int64()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			m = cell.Member{ID: next + 1, Name: r.Name, Standing: cell.Official, Participation: cell.Regular}
		} else {
			v, err := tx.HGet(ctx, k.Members(cellID), strconv.FormatInt(r.MemberID, 10)).Result()
			if err != nil {
				return err
			}
			if m, err = decodeMember(v); err != nil {
				return err
			}
			if m.UserID != 0 && m.UserID != userID {
				return ErrMemberLinked
			}
		}
		m.UserID = userID
		data, err := encodeMember(m)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			id := strconv.FormatInt(m.ID, 10)
			p.HSet(ctx, k.Members(cellID), id, data)
			p.HSet(ctx, k.Users(cellID), uid, id)
			p.HDel(ctx, k.Joins(cellID), uid)
			if newMember {
				p.Set(ctx, k.MemberSeq(cellID), m.ID, 0)
				p.HSet(ctx, k.Names(cellID), cell.Key(m.Name), id)
			}
			return nil
		})
		out = m
		return err
	}, k.Joins(cellID), k.Users(cellID), k.Members(cellID), k.Names(cellID), k.MemberSeq(cellID))
	if err != nil {
		return cell.Member{}, fmt.Errorf("storage: confirm join of user %d to cell %d: %w", userID, cellID, err)
	}
	return out, s.AddUserCell(ctx, userID, cellID)
}

// RejectJoin removes a pending request; ErrNotPending when it was already settled.
func (s *Store) RejectJoin(ctx context.Context, cellID, userID int64) (JoinRequest, error) {
	r, err := s.JoinRequestOf(ctx, cellID, userID)
	if err != nil {
		return JoinRequest{}, err
	}
	n, err := s.rdb.HDel(ctx, s.keys.Joins(cellID), strconv.FormatInt(userID, 10)).Result()
	if err != nil {
		return JoinRequest{}, fmt.Errorf("storage: reject join of user %d: %w", userID, err)
	}
	if n == 0 {
		return JoinRequest{}, ErrNotPending
	}
	return r, nil
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
