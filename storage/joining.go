package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/redis/go-redis/v9"
)

// Joining (issue 11): pending requests are listed and expire; the bot knows who
// opened a private chat with it; a group the bot was removed from is unbound
// from its cell, and /setup there binds the same cell again.

// JoinRequests returns a cell's pending requests, oldest first.
func (s *Store) JoinRequests(ctx context.Context, cellID int64) ([]JoinRequest, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Joins(cellID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: join requests of cell %d: %w", cellID, err)
	}
	out := make([]JoinRequest, 0, len(h))
	for _, v := range h {
		var r JoinRequest
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			continue // one bad entry must not hide the others
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b JoinRequest) int {
		if a.At != b.At {
			return int(a.At - b.At)
		}
		return int(a.UserID - b.UserID)
	})
	return out, nil
}

// ExpireJoin removes a user's pending request if it is still the one made at
// at, and reports whether it did; a request made again meanwhile stays.
func (s *Store) ExpireJoin(ctx context.Context, cellID, userID, at int64) (bool, error) {
	return s.dropJoin(ctx, cellID, userID, at)
}

func (s *Store) dropJoin(ctx context.Context, cellID, userID, at int64) (bool, error) {
	key, field := s.keys.Joins(cellID), strconv.FormatInt(userID, 10)
	dropped := false
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		dropped = false
		v, err := tx.HGet(ctx, key, field).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		var r JoinRequest
		if err := json.Unmarshal([]byte(v), &r); err == nil && at >= 0 && r.At != at {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HDel(ctx, key, field)
			return nil
		})
		dropped = err == nil
		return err
	}, key)
	if err != nil {
		return false, fmt.Errorf("storage: drop join request of user %d in cell %d: %w", userID, cellID, err)
	}
	return dropped, nil
}

// RejectJoinAt removes a pending request if it is the one made at at (any, for
// at < 0); ErrNotPending otherwise.
func (s *Store) RejectJoinAt(ctx context.Context, cellID, userID, at int64) (JoinRequest, error) {
	r, err := s.JoinRequestOf(ctx, cellID, userID)
	if err != nil {
		return JoinRequest{}, err
	}
	ok, err := s.dropJoin(ctx, cellID, userID, at)
	if err != nil {
		return JoinRequest{}, err
	}
	if !ok {
		return JoinRequest{}, ErrNotPending
	}
	return r, nil
}

// SetOpened records that a user opened a private chat with the bot, so that it
// may write to them.
func (s *Store) SetOpened(ctx context.Context, userID int64) error {
	if err := s.rdb.HSet(ctx, s.keys.User(userID), "opened", 1).Err(); err != nil {
		return fmt.Errorf("storage: user %d opened the bot: %w", userID, err)
	}
	return nil
}

// Opened reports whether a user opened a private chat with the bot.
func (s *Store) Opened(ctx context.Context, userID int64) (bool, error) {
	v, err := s.rdb.HGet(ctx, s.keys.User(userID), "opened").Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: has user %d opened the bot: %w", userID, err)
	}
	return v == "1", nil
}

// UnbindChat unbinds a group from its cell, keeping the cell's data, and
// remembers the cell so that /setup in that group binds it again. ErrNotFound
// when the group was no cell.
func (s *Store) UnbindChat(ctx context.Context, chatID int64) (cell.Cell, error) {
	c, err := s.CellByChat(ctx, chatID)
	if err != nil {
		return cell.Cell{}, err
	}
	// The former binding first: a crash in between leaves the group bound.
	if err := s.rdb.Set(ctx, s.keys.FormerChatCell(chatID), c.ID, 0).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: remember cell %d of chat %d: %w", c.ID, chatID, err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Cell(c.ID), "chat", 0).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: unbind cell %d: %w", c.ID, err)
	}
	if err := s.rdb.Del(ctx, s.keys.ChatCell(chatID)).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: unbind chat %d: %w", chatID, err)
	}
	return c, nil
}

// RebindChat binds a group again to the cell it was bound to before the bot was
// removed from it. ErrNotFound when there is none; ErrAlreadyBound (with the
// cell) when the group is bound already.
func (s *Store) RebindChat(ctx context.Context, chatID int64) (cell.Cell, error) {
	id, err := s.rdb.Get(ctx, s.keys.FormerChatCell(chatID)).Int64()
	if errors.Is(err, redis.Nil) {
		return cell.Cell{}, ErrNotFound
	}
	if err != nil {
		return cell.Cell{}, fmt.Errorf("storage: former cell of chat %d: %w", chatID, err)
	}
	c, err := s.Cell(ctx, id)
	if err != nil {
		return cell.Cell{}, err
	}
	ok, err := s.rdb.SetNX(ctx, s.keys.ChatCell(chatID), id, 0).Result()
	if err != nil {
		return cell.Cell{}, fmt.Errorf("storage: bind chat %d to cell %d: %w", chatID, id, err)
	}
	if !ok {
		existing, err := s.CellByChat(ctx, chatID)
		if err != nil {
			return cell.Cell{}, err
		}
		return existing, ErrAlreadyBound
	}
	if err := s.rdb.HSet(ctx, s.keys.Cell(id), "chat", chatID).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: rebind cell %d: %w", id, err)
	}
	_ = s.rdb.Del(ctx, s.keys.FormerChatCell(chatID)).Err()
	c.ChatID = chatID
	return c, nil
}

// CellIDs lists every cell's id.
func (s *Store) CellIDs(ctx context.Context) ([]int64, error) {
	vs, err := s.rdb.SMembers(ctx, s.keys.Cells()).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: list cells: %w", err)
	}
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// TellGroupNobodyHears reports whether the cell's group should now be told that
// no committee member can receive join requests: true at most once per every.
func (s *Store) TellGroupNobodyHears(ctx context.Context, cellID int64, every time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keys.JoinsUnheard(cellID), 1, every).Result()
	if err != nil {
		return false, fmt.Errorf("storage: join notice flag of cell %d: %w", cellID, err)
	}
	return ok, nil
}

// HeardByCommittee clears that flag: a committee member opened the bot.
func (s *Store) HeardByCommittee(ctx context.Context, cellID int64) error {
	if err := s.rdb.Del(ctx, s.keys.JoinsUnheard(cellID)).Err(); err != nil {
		return fmt.Errorf("storage: join notice flag of cell %d: %w", cellID, err)
	}
	return nil
}
