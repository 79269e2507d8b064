package storage

import (
	"context"
	"fmt"
	"time"
)

// queuedReplyTTL bounds how long a chat's queued-reply marker is kept: far beyond
// any pause of a chat, so that a lost marker is the only way to skip the queue.
const queuedReplyTTL = time.Hour

// MarkReplyQueued records that reply id was queued for chatID: until it is sent,
// ReplyQueued reports the chat so that later replies queue behind it.
func (s *Store) MarkReplyQueued(ctx context.Context, chatID int64, id string) error {
	if err := s.rdb.Set(ctx, s.keys.QueuedReply(chatID), id, queuedReplyTTL).Err(); err != nil {
		return fmt.Errorf("storage: mark a reply queued for %d: %w", chatID, err)
	}
	return nil
}

// replyQueuedScript tells whether the chat's newest queued reply is still
// waiting or in flight, and drops the marker once it is not.
//
//	KEYS[1] the chat's marker
//	ARGV[1] queue key prefix
//
// Returns, while the reply is not done, the time it is due (unix ms; 1 when
// unknown), else 0.
var replyQueuedScript = newScript(`
local id = redis.call('GET', KEYS[1])
if not id then return 0 end
local st = redis.call('HMGET', ARGV[1] .. 'msg:' .. id, 'state', 'nbf')
if st[1] and st[1] ~= 'done' then return tonumber(st[2]) or 1 end
redis.call('DEL', KEYS[1])
return 0
`)

// ReplyQueued reports whether a reply queued for chatID is not sent yet, and
// when it is due: a new reply to the chat must then be queued too, due after
// it, to arrive after it.
func (s *Store) ReplyQueued(ctx context.Context, chatID int64) (bool, time.Time, error) {
	ms, err := replyQueuedScript.Run(ctx, s.rdb, []string{s.keys.QueuedReply(chatID)}, s.keys.queuePrefix()).Int64()
	if err != nil {
		return false, time.Time{}, fmt.Errorf("storage: queued replies of %d: %w", chatID, err)
	}
	if ms == 0 {
		return false, time.Time{}, nil
	}
	return true, time.UnixMilli(ms), nil
}
