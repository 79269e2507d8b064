package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/redis/go-redis/v9"
)

// CreateCell makes a new cell for a group, with the caller as its secretary, and
// returns it with the secretary's member record. The cell's own keys and its
// join link are written under a new id first, then the group is bound to it
// (SET NX); only the winner of that step lists the cell and writes to the
// secretary's index, and the loser removes what it wrote. So two /setup at once
// in one group make one cell, leave no stray cell in anyone's list, and the
// second gets ErrAlreadyBound with the cell that won; a crash before the
// binding leaves at worst unreferenced keys, never a group bound to a cell that
// is not whole.
func (s *Store) CreateCell(ctx context.Context, c cell.Cell, secretary cell.Member) (cell.Cell, cell.Member, error) {
	if existing, err := s.CellByChat(ctx, c.ChatID); err == nil {
		return existing, cell.Member{}, ErrAlreadyBound
	} else if !errors.Is(err, ErrNotFound) {
		return cell.Cell{}, cell.Member{}, err
	}
	id, err := s.rdb.Incr(ctx, s.keys.CellSeq()).Result()
	if err != nil {
		return cell.Cell{}, cell.Member{}, fmt.Errorf("storage: new cell id: %w", err)
	}
	c.ID = id
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	token := rand.Text()[:16]
	secretary.ID = 1
	secretary.Role = cell.RoleSecretary
	if secretary.Standing == "" {
		secretary.Standing = cell.Official
	}
	if secretary.Participation == "" {
		secretary.Participation = cell.Regular
	}
	data, err := encodeMember(secretary)
	if err != nil {
		return cell.Cell{}, cell.Member{}, err
	}
	own := []string{s.keys.Cell(id), s.keys.MemberSeq(id), s.keys.Members(id), s.keys.Names(id), s.keys.Users(id)}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.keys.Cell(id), map[string]any{
			"name": c.Name, "chat": c.ChatID, "tz": c.TimeZone, "lang": c.Lang,
			"quiet": c.Quiet.String(), "join": token, "created": c.Created.Unix(),
		})
		p.Set(ctx, s.keys.MemberSeq(id), 1, 0)
		p.HSet(ctx, s.keys.Members(id), "1", data)
		p.HSet(ctx, s.keys.Names(id), cell.Key(secretary.Name), "1")
		if secretary.UserID != 0 {
			p.HSet(ctx, s.keys.Users(id), strconv.FormatInt(secretary.UserID, 10), "1")
		}
		return nil
	})
	if err != nil {
		return cell.Cell{}, cell.Member{}, fmt.Errorf("storage: create cell %d: %w", id, err)
	}
	if err := s.rdb.Set(ctx, s.keys.JoinToken(token), id, 0).Err(); err != nil {
		return cell.Cell{}, cell.Member{}, fmt.Errorf("storage: join link of cell %d: %w", id, err)
	}
	ok, err := s.rdb.SetNX(ctx, s.keys.ChatCell(c.ChatID), id, 0).Result()
	if err != nil {
		return cell.Cell{}, cell.Member{}, fmt.Errorf("storage: bind chat %d to cell %d: %w", c.ChatID, id, err)
	}
	if !ok {
		// Another /setup won the race: remove what this one wrote.
		_ = s.rdb.Del(ctx, s.keys.JoinToken(token)).Err()
		_ = s.rdb.Del(ctx, own...).Err()
		existing, err := s.CellByChat(ctx, c.ChatID)
		if err != nil {
			return cell.Cell{}, cell.Member{}, err
		}
		return existing, cell.Member{}, ErrAlreadyBound
	}
	if err := s.rdb.SAdd(ctx, s.keys.Cells(), id).Err(); err != nil {
		return cell.Cell{}, cell.Member{}, fmt.Errorf("storage: list cell %d: %w", id, err)
	}
	if secretary.UserID != 0 {
		if err := s.AddUserCell(ctx, secretary.UserID, id); err != nil {
			return cell.Cell{}, cell.Member{}, err
		}
	}
	c.JoinToken = token
	return c, secretary, nil
}

// Cell returns a cell by id.
func (s *Store) Cell(ctx context.Context, id int64) (cell.Cell, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Cell(id)).Result()
	if err != nil {
		return cell.Cell{}, fmt.Errorf("storage: cell %d: %w", id, err)
	}
	if len(h) == 0 {
		return cell.Cell{}, fmt.Errorf("storage: cell %d: %w", id, ErrNotFound)
	}
	return decodeCell(id, h), nil
}

// decodeCell reads a cell from its hash's fields.
func decodeCell(id int64, h map[string]string) cell.Cell {
	c := cell.Cell{ID: id, Name: h["name"], TimeZone: h["tz"], Lang: h["lang"], JoinToken: h["join"], Parent: h["parent"]}
	c.ChatID, _ = strconv.ParseInt(h["chat"], 10, 64)
	if q, err := cell.ParseQuiet(h["quiet"]); err == nil {
		c.Quiet = q
	} else {
		c.Quiet = cell.DefaultQuiet
	}
	if sec, err := strconv.ParseInt(h["created"], 10, 64); err == nil {
		c.Created = time.Unix(sec, 0)
	}
	return c
}

// CellByChat returns the cell bound to a group.
func (s *Store) CellByChat(ctx context.Context, chatID int64) (cell.Cell, error) {
	return s.cellByKey(ctx, s.keys.ChatCell(chatID))
}

// CellByJoinToken returns the cell whose join link carries token.
func (s *Store) CellByJoinToken(ctx context.Context, token string) (cell.Cell, error) {
	return s.cellByKey(ctx, s.keys.JoinToken(token))
}

func (s *Store) cellByKey(ctx context.Context, key string) (cell.Cell, error) {
	id, err := s.rdb.Get(ctx, key).Int64()
	if errors.Is(err, redis.Nil) {
		return cell.Cell{}, ErrNotFound
	}
	if err != nil {
		return cell.Cell{}, fmt.Errorf("storage: look up %s: %w", key, err)
	}
	return s.Cell(ctx, id)
}

// SetCellQuiet sets a cell's quiet hours.
func (s *Store) SetCellQuiet(ctx context.Context, cellID int64, q cell.QuietHours) error {
	if err := s.rdb.HSet(ctx, s.keys.Cell(cellID), "quiet", q.String()).Err(); err != nil {
		return fmt.Errorf("storage: quiet hours of cell %d: %w", cellID, err)
	}
	return nil
}

// MoveChat follows a group that Telegram upgraded to a supergroup (a new chat id)
// and returns its cell. The new binding is written first and the old one deleted
// last, so a crash in between leaves the cell reachable from both ids; running it
// again completes it. ErrNotFound when the old group was no cell.
func (s *Store) MoveChat(ctx context.Context, from, to int64) (cell.Cell, error) {
	c, err := s.CellByChat(ctx, from)
	if err != nil {
		return cell.Cell{}, err
	}
	if err := s.rdb.SetNX(ctx, s.keys.ChatCell(to), c.ID, 0).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: bind chat %d to cell %d: %w", to, c.ID, err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Cell(c.ID), "chat", to).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: move cell %d to chat %d: %w", c.ID, to, err)
	}
	if err := s.rdb.Del(ctx, s.keys.ChatCell(from)).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: unbind chat %d: %w", from, err)
	}
	c.ChatID = to
	return c, nil
}
