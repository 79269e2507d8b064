package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// EditMarkTTL is how long the last edit of a message is remembered: long
// enough for a member pressing one button twice, a page shown again, counts
// corrected twice in a row.
const EditMarkTTL = 48 * time.Hour

// EditMark returns the fingerprint of the last edit sent for a message, ""
// when none is known.
func (s *Store) EditMark(ctx context.Context, chatID int64, messageID string) (string, error) {
	v, err := s.rdb.Get(ctx, s.keys.EditMark(chatID, messageID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("storage: last edit of %d/%s: %w", chatID, messageID, err)
	}
	return v, nil
}

// SetEditMark records mark as the last edit sent for a message: after
// Telegram took it, never before, so that an edit cut off by a crash is sent
// again by whoever takes it over.
func (s *Store) SetEditMark(ctx context.Context, chatID int64, messageID, mark string) error {
	if err := s.rdb.Set(ctx, s.keys.EditMark(chatID, messageID), mark, EditMarkTTL).Err(); err != nil {
		return fmt.Errorf("storage: mark an edit of %d/%s: %w", chatID, messageID, err)
	}
	return nil
}
