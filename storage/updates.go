package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Update claim states.
const (
	UpdateClaimed    = iota // this caller handles it now
	UpdateDone              // handled before: skip it
	UpdateInProgress        // another handler holds it: try again later
)

var claimUpdateScript = redis.NewScript(`
-- KEYS[1] update key; ARGV[1] lease ms
-- returns 0 claimed, 1 done before, 2 held by another handler
local v = redis.call('GET', KEYS[1])
if v == 'done' then return 1 end
if v then return 2 end
redis.call('SET', KEYS[1], 'busy', 'PX', ARGV[1])
return 0
`)

// ClaimUpdate claims an update for handling. The claim lasts lease; FinishUpdate
// keeps it as done for a long while, ReleaseUpdate drops it so a redelivery is
// handled again.
func (s *Store) ClaimUpdate(ctx context.Context, key string, lease time.Duration) (int, error) {
	n, err := claimUpdateScript.Run(ctx, s.rdb, []string{s.keys.Update(key)}, lease.Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("storage: claim update %s: %w", key, err)
	}
	return n, nil
}

// FinishUpdate records an update as handled, for keep (Telegram keeps updates
// for 24 hours, so a few days is plenty).
func (s *Store) FinishUpdate(ctx context.Context, key string, keep time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys.Update(key), "done", keep).Err(); err != nil {
		return fmt.Errorf("storage: finish update %s: %w", key, err)
	}
	return nil
}

// ReleaseUpdate forgets a claim whose handling failed.
func (s *Store) ReleaseUpdate(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, s.keys.Update(key)).Err(); err != nil {
		return fmt.Errorf("storage: release update %s: %w", key, err)
	}
	return nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
