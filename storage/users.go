package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// UserLang returns the language a user chose with /lang, "" when none.
func (s *Store) UserLang(ctx context.Context, userID int64) (string, error) {
	v, err := s.rdb.HGet(ctx, s.keys.User(userID), "lang").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("storage: language of user %d: %w", userID, err)
	}
	return v, nil
}

// SetUserLang records a user's language.
func (s *Store) SetUserLang(ctx context.Context, userID int64, lang string) error {
	if err := s.rdb.HSet(ctx, s.keys.User(userID), "lang", lang).Err(); err != nil {
		return fmt.Errorf("storage: set language of user %d: %w", userID, err)
	}
	return nil
}

// AddUserCell records that a user belongs to a cell and makes it the cell their
// private commands act on.
func (s *Store) AddUserCell(ctx context.Context, userID, cellID int64) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, s.keys.UserCells(userID), cellID)
		p.HSet(ctx, s.keys.User(userID), "cell", cellID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: add cell %d to user %d: %w", cellID, userID, err)
	}
	return nil
}

// UserCell returns the cell a user's private commands act on: the one last
// joined, 0 when the user is in none.
func (s *Store) UserCell(ctx context.Context, userID int64) (int64, error) {
	id, err := s.rdb.HGet(ctx, s.keys.User(userID), "cell").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: cell of user %d: %w", userID, err)
	}
	return id, nil
}

// Dialogue is where a user is in a multi-step exchange with the bot.
type Dialogue struct {
	Kind   string            `json:"kind"`
	CellID int64             `json:"cell"`
	Data   map[string]string `json:"data,omitempty"`
}

// SetDialogue stores a user's dialogue; it expires after ttl.
func (s *Store) SetDialogue(ctx context.Context, userID int64, d Dialogue, ttl time.Duration) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("storage: encode dialogue: %w", err)
	}
	if err := s.rdb.Set(ctx, s.keys.Dialogue(userID), b, ttl).Err(); err != nil {
		return fmt.Errorf("storage: set dialogue of user %d: %w", userID, err)
	}
	return nil
}

// DialogueOf returns a user's dialogue; ErrNotFound when there is none.
func (s *Store) DialogueOf(ctx context.Context, userID int64) (Dialogue, error) {
	v, err := s.rdb.Get(ctx, s.keys.Dialogue(userID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Dialogue{}, ErrNotFound
	}
	if err != nil {
		return Dialogue{}, fmt.Errorf("storage: dialogue of user %d: %w", userID, err)
	}
	var d Dialogue
	if err := json.Unmarshal(v, &d); err != nil {
		return Dialogue{}, fmt.Errorf("storage: decode dialogue: %w", err)
	}
	return d, nil
}

// ClearDialogue ends a user's dialogue and reports whether there was one.
func (s *Store) ClearDialogue(ctx context.Context, userID int64) (bool, error) {
	n, err := s.rdb.Del(ctx, s.keys.Dialogue(userID)).Result()
	if err != nil {
		return false, fmt.Errorf("storage: clear dialogue of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// UserLangs returns the languages users chose (empty when none), in one round trip.
func (s *Store) UserLangs(ctx context.Context, userIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(userIDs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range userIDs {
			cmds[i] = p.HGet(ctx, s.keys.User(id), "lang")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("storage: languages of %d users: %w", len(userIDs), err)
	}
	for i, c := range cmds {
		if v, err := c.Result(); err == nil {
			out[userIDs[i]] = v
		}
	}
	return out, nil
}

// UserCells returns every cell a user belongs to.
func (s *Store) UserCells(ctx context.Context, userID int64) ([]int64, error) {
	vs, err := s.rdb.SMembers(ctx, s.keys.UserCells(userID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: cells of user %d: %w", userID, err)
	}
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		id, _ := strconv.ParseInt(v, 10, 64)
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}
