package storage

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// chatQueued counts the chat's message in flight and its urgent lane: more than
// 0 when the queue sends or holds something urgent for the chat. Both keys
// carry the queue's hash tag, so one EXISTS reads them in Redis Cluster too.
func (s *Store) chatQueued(ctx context.Context, p redis.Cmdable, chatID int64) *redis.IntCmd {
	return p.Exists(ctx, s.keys.QueueBusy(chatID), s.keys.QueueLane(chatID, PriorityUrgent))
}

// ChatQueued reports whether the queue sends or holds an urgent message for the
// chat: a reply to it must then join the chat's lane, to arrive after it. A
// bulk message waiting (a broadcast, a notice held for quiet hours) does not
// hold a reply back.
func (s *Store) ChatQueued(ctx context.Context, chatID int64) (bool, error) {
	n, err := s.chatQueued(ctx, s.rdb, chatID).Result()
	if err != nil {
		return false, fmt.Errorf("storage: queued messages of %d: %w", chatID, err)
	}
	return n > 0, nil
}
