package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/redis/go-redis/v9"
)

// migrationNames is the migration that rekeyed every cell's names index from the
// accent-folded name to the name's identity.
const migrationNames = "names-identity-v2"

// MigrateNames rebuilds every cell's names index from its roster, keyed by each
// name's identity (cell.Key). Each cell is rebuilt in one optimistic
// transaction over its own keys, so that it is safe while other processes run
// (one that imports meanwhile makes the rebuild start again) and may run any
// number of times; when every cell is done a marker skips the work on the next
// start.
func (s *Store) MigrateNames(ctx context.Context) (int, error) {
	done, err := s.rdb.HExists(ctx, s.keys.Migrations(), migrationNames).Result()
	if err != nil {
		return 0, fmt.Errorf("storage: migrations: %w", err)
	}
	if done {
		return 0, nil
	}
	ids, err := s.rdb.SMembers(ctx, s.keys.Cells()).Result()
	if err != nil {
		return 0, fmt.Errorf("storage: list cells: %w", err)
	}
	n := 0
	for _, v := range ids {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		if err := s.rebuildNames(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	if err := s.rdb.HSet(ctx, s.keys.Migrations(), migrationNames, time.Now().Unix()).Err(); err != nil {
		return n, fmt.Errorf("storage: record migration: %w", err)
	}
	return n, nil
}

func (s *Store) rebuildNames(ctx context.Context, cellID int64) error {
	k := s.keys
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		ms, err := s.members(ctx, tx, cellID)
		if err != nil {
			return err
		}
		index := make(map[string]any, len(ms))
		for _, m := range ms {
			index[cell.Key(m.Name)] = m.ID
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, k.Names(cellID))
			if len(index) > 0 {
				p.HSet(ctx, k.Names(cellID), index)
			}
			return nil
		})
		return err
	}, k.Members(cellID), k.Names(cellID))
	if err != nil {
		return fmt.Errorf("storage: rebuild the names of cell %d: %w", cellID, err)
	}
	return nil
}

// ErrNotUnlisted: the record to link is already a roster entry.
var ErrNotUnlisted = errors.New("record is a roster entry already")

// LinkSelf joins an unlisted record (the one /setup made for the secretary) to
// the roster entry its user picked, in one transaction: the entry gets the
// account and the higher committee role, the unlisted record goes. ErrNotFound
// when either is gone, ErrMemberLinked when the entry has another account,
// ErrNotUnlisted when the record was linked before.
func (s *Store) LinkSelf(ctx context.Context, cellID, fromID, toID int64) (cell.Member, error) {
	k := s.keys
	var out cell.Member
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		vals, err := tx.HMGet(ctx, k.Members(cellID), strconv.FormatInt(fromID, 10), strconv.FormatInt(toID, 10)).Result()
		if err != nil {
			return err
		}
		if vals[0] == nil || vals[1] == nil {
			return ErrNotFound
		}
		from, err := decodeMember(vals[0].(string))
		if err != nil {
			return err
		}
		to, err := decodeMember(vals[1].(string))
		if err != nil {
			return err
		}
		if !from.Unlisted {
			return ErrNotUnlisted
		}
		if to.Unlisted || (to.UserID != 0 && to.UserID != from.UserID) {
			return ErrMemberLinked
		}
		to = merge(from, to)
		data, err := encodeMember(to)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, k.Members(cellID), strconv.FormatInt(to.ID, 10), data)
			p.HDel(ctx, k.Members(cellID), strconv.FormatInt(from.ID, 10))
			p.HDel(ctx, k.Names(cellID), cell.Key(from.Name))
			p.HDel(ctx, k.Unreachable(cellID), strconv.FormatInt(from.ID, 10))
			if to.UserID != 0 {
				p.HSet(ctx, k.Users(cellID), strconv.FormatInt(to.UserID, 10), to.ID)
			}
			return nil
		})
		out = to
		return err
	}, k.Members(cellID), k.Names(cellID), k.Users(cellID))
	if err != nil {
		return cell.Member{}, fmt.Errorf("storage: link record %d to entry %d of cell %d: %w", fromID, toID, cellID, err)
	}
	return out, nil
}

// merge is the roster entry to once the unlisted record from is joined to it:
// the entry's name and standing, the record's account, the higher role.
func merge(from, to cell.Member) cell.Member {
	to.UserID = from.UserID
	if roleRank(from.Role) > roleRank(to.Role) {
		to.Role = from.Role
	}
	to.Unlisted, to.Alias, to.OffRoster = false, "", false
	return to
}

func roleRank(r cell.Role) int {
	switch r {
	case cell.RoleSecretary:
		return 3
	case cell.RoleDeputy:
		return 2
	case cell.RoleCommittee:
		return 1
	}
	return 0
}

// SetOffRoster records that an unlisted user said they are not on the roster.
func (s *Store) SetOffRoster(ctx context.Context, cellID, memberID int64) (cell.Member, error) {
	return s.UpdateMember(ctx, cellID, memberID, func(m *cell.Member) error {
		if !m.Unlisted {
			return ErrNotUnlisted
		}
		m.OffRoster = true
		return nil
	})
}
