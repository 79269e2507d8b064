package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/redis/go-redis/v9"
)

// Leaving the roster and taking access back: a member leaves from a date for a
// cause and keeps their record; a Telegram link ends without the entry; a join
// link is replaced by a new one.

// More sentinel errors of leaving and links.
var (
	// ErrHasLeft: the member has left the roster already.
	ErrHasLeft = errors.New("member has left the roster")
	// ErrNotLinked: the member has no Telegram account linked.
	ErrNotLinked = errors.New("member has no linked account")
)

// Left is what LeaveMember did.
type Left struct {
	Member cell.Member
	// Unlinked is the Telegram account whose link ended (0 when none did:
	// the member had none, or leaves from a later day, when the link ends
	// with EndLinks).
	Unlinked int64
}

// LeaveMember records that a member leaves the roster from day (yyyy-mm-dd)
// for cause, keeping their record. When day is today or before, their
// Telegram link ends at once, with any committee rights; a later day leaves
// both until then (EndLinks). ErrHasLeft when they left already, ErrNotFound
// when there is no such member.
func (s *Store) LeaveMember(ctx context.Context, cellID, memberID int64, day string, cause cell.LeaveCause, today string) (Left, error) {
	var out Left
	wrap := func(err error) error {
		return fmt.Errorf("storage: member %d of cell %d leaves: %w", memberID, cellID, err)
	}
	err := s.endMember(ctx, cellID, memberID, func(m *cell.Member) (bool, error) {
		if m.Left != "" || m.Unlisted {
			return false, ErrHasLeft
		}
		m.Left, m.LeftCause, m.NoNotices = day, cause, false
		return day <= today, nil
	}, &out)
	if err != nil {
		return Left{}, wrap(err)
	}
	return out, nil
}

// UnlinkMember ends the Telegram link of a member, keeping the entry, which
// the member may claim again by joining. ErrNotLinked when there is none.
func (s *Store) UnlinkMember(ctx context.Context, cellID, memberID int64) (Left, error) {
	var out Left
	err := s.endMember(ctx, cellID, memberID, func(m *cell.Member) (bool, error) {
		if m.UserID == 0 || m.Unlisted {
			return false, ErrNotLinked
		}
		return true, nil
	}, &out)
	if err != nil {
		return Left{}, fmt.Errorf("storage: unlink member %d of cell %d: %w", memberID, cellID, err)
	}
	return out, nil
}

// endMember changes a member with fn and, when fn says so, ends their link
// (and their rights, which a join never gives back), in one transaction over
// the roster and the accounts; then the account no longer counts the cell
// among its own.
func (s *Store) endMember(ctx context.Context, cellID, memberID int64, fn func(*cell.Member) (bool, error), out *Left) error {
	members, users := s.keys.Members(cellID), s.keys.Users(cellID)
	field := strconv.FormatInt(memberID, 10)
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		*out = Left{}
		v, err := tx.HGet(ctx, members, field).Result()
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
		unlink, err := fn(&m)
		if err != nil {
			return err
		}
		var user int64
		if unlink && m.UserID != 0 {
			user, m.UserID, m.Role = m.UserID, 0, cell.RoleMember
		}
		data, err := encodeMember(m)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, members, field, data)
			if user != 0 {
				p.HDel(ctx, users, strconv.FormatInt(user, 10))
			}
			return nil
		})
		*out = Left{Member: m, Unlinked: user}
		return err
	}, members, users)
	if err != nil {
		return err
	}
	if out.Unlinked != 0 {
		return s.LeaveUserCell(ctx, out.Unlinked, cellID)
	}
	return nil
}

// EndLinks ends the links of the members whose leaving day has come (they
// left from a later day than the one it was recorded on), and returns them.
func (s *Store) EndLinks(ctx context.Context, cellID int64, today string) ([]Left, error) {
	ms, err := s.Members(ctx, cellID)
	if err != nil {
		return nil, err
	}
	var out []Left
	for _, m := range ms {
		if m.Left == "" || m.Left > today || m.UserID == 0 {
			continue
		}
		l, err := s.UnlinkMember(ctx, cellID, m.ID)
		if errors.Is(err, ErrNotLinked) {
			continue // another replica was first
		}
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
	return out, nil
}

// ReturnMember brings back a member who left (a transfer back, or a leave in
// error): on the roster again, with their history. ErrNotFound when there is
// no such member; a member on the roster is returned as they are.
func (s *Store) ReturnMember(ctx context.Context, cellID, memberID int64) (cell.Member, error) {
	return s.UpdateMember(ctx, cellID, memberID, func(m *cell.Member) error {
		m.Left, m.LeftCause = "", ""
		return nil
	})
}

// SetNoNotices records an exempt or away member's choice to get no notices
// and agendas (off true), or to get them again.
func (s *Store) SetNoNotices(ctx context.Context, cellID, memberID int64, off bool) (cell.Member, error) {
	return s.UpdateMember(ctx, cellID, memberID, func(m *cell.Member) error {
		m.NoNotices = off
		return nil
	})
}

// MarkAttachmentEnded reports whether the committee is still to be told that
// an attached member's attachment ended, and marks it told: true once per
// member and day, whatever the number of replicas asking.
func (s *Store) MarkAttachmentEnded(ctx context.Context, cellID, memberID int64, day string) (bool, error) {
	ok, err := s.rdb.HSetNX(ctx, s.keys.AttachmentsEnded(cellID), strconv.FormatInt(memberID, 10)+":"+day, 1).Result()
	if err != nil {
		return false, fmt.Errorf("storage: attachment of member %d ended: %w", memberID, err)
	}
	return ok, nil
}

// RenewJoinToken gives a cell a new join link payload; the old one stops
// working and is remembered as replaced (RevokedJoinToken).
func (s *Store) RenewJoinToken(ctx context.Context, cellID int64) (cell.Cell, error) {
	c, err := s.Cell(ctx, cellID)
	if err != nil {
		return cell.Cell{}, err
	}
	token := rand.Text()[:16]
	wrap := func(err error) error { return fmt.Errorf("storage: new join link of cell %d: %w", cellID, err) }
	// The new link first: a crash in between leaves the old one working too,
	// never none.
	if err := s.rdb.Set(ctx, s.keys.JoinToken(token), cellID, 0).Err(); err != nil {
		return cell.Cell{}, wrap(err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Cell(cellID), "join", token).Err(); err != nil {
		return cell.Cell{}, wrap(err)
	}
	if c.JoinToken != "" {
		if err := s.rdb.Set(ctx, s.keys.JoinTokenRevoked(c.JoinToken), cellID, 0).Err(); err != nil {
			return cell.Cell{}, wrap(err)
		}
		if err := s.rdb.Del(ctx, s.keys.JoinToken(c.JoinToken)).Err(); err != nil {
			return cell.Cell{}, wrap(err)
		}
	}
	c.JoinToken = token
	return c, nil
}

// RevokedJoinToken returns the cell whose join link carried token before
// /newlink replaced it; ErrNotFound when it never did.
func (s *Store) RevokedJoinToken(ctx context.Context, token string) (cell.Cell, error) {
	return s.cellByKey(ctx, s.keys.JoinTokenRevoked(token))
}
