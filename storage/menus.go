package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/redis/go-redis/v9"
)

// MenuMark returns the fingerprint of the command menu last set for a scope,
// "" when none is.
func (s *Store) MenuMark(ctx context.Context, scope string) (string, error) {
	v, err := s.rdb.HGet(ctx, s.keys.Menus(), scope).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("storage: menu mark of %s: %w", scope, err)
	}
	return v, nil
}

// SetMenuMark records the fingerprint of the menu just set for a scope; ""
// records that the scope has none of its own.
func (s *Store) SetMenuMark(ctx context.Context, scope, mark string) error {
	var err error
	if mark == "" {
		err = s.rdb.HDel(ctx, s.keys.Menus(), scope).Err()
	} else {
		err = s.rdb.HSet(ctx, s.keys.Menus(), scope, mark).Err()
	}
	if err != nil {
		return fmt.Errorf("storage: set menu mark of %s: %w", scope, err)
	}
	return nil
}

// CommitteeSeat is a committee member with a linked Telegram account, and the
// cell they serve.
type CommitteeSeat struct {
	Cell   cell.Cell
	Member cell.Member
}

// CommitteeSeats lists the committee members of every cell who have linked
// Telegram accounts, for their command menus.
func (s *Store) CommitteeSeats(ctx context.Context) ([]CommitteeSeat, error) {
	ids, err := s.rdb.SMembers(ctx, s.keys.Cells()).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: list cells: %w", err)
	}
	var seats []CommitteeSeat
	for _, idStr := range ids {
		id, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil {
			continue
		}
		c, err := s.Cell(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ms, err := s.Members(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.UserID != 0 && m.Role.IsCommittee() {
				seats = append(seats, CommitteeSeat{Cell: c, Member: m})
			}
		}
	}
	return seats, nil
}
