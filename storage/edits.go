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

// SwapEditMark records mark as the last edit of the message and reports
// whether it was already the last one, in one command.
func (s *Store) SwapEditMark(ctx context.Context, chatID int64, messageID, mark string) (same bool, err error) {
	old, err := s.rdb.SetArgs(ctx, s.keys.EditMark(chatID, messageID), mark, redis.SetArgs{Get: true, TTL: EditMarkTTL}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("storage: mark an edit of %d/%s: %w", chatID, messageID, err)
	}
	return old == mark, nil
}

// ForgetEditMark forgets the last edit of a message, after Telegram refused it
// for another reason than its being the same: it may be sent again.
func (s *Store) ForgetEditMark(ctx context.Context, chatID int64, messageID string) error {
	if err := s.rdb.Del(ctx, s.keys.EditMark(chatID, messageID)).Err(); err != nil {
		return fmt.Errorf("storage: forget an edit of %d/%s: %w", chatID, messageID, err)
	}
	return nil
}
