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

// An update's record holds "done" once it was handled, or the token of the
// handler that holds it, under a short lease the handler renews while it runs
// (RenewUpdate): after a crash the update can be taken up again as soon as the
// lease ends.
var claimUpdateScript = redis.NewScript(`
-- KEYS[1] update key; ARGV[1] token; ARGV[2] lease ms
-- returns 0 claimed, 1 done before, 2 held by another handler
local v = redis.call('GET', KEYS[1])
if v == 'done' then return 1 end
if v then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
`)

// ClaimUpdate claims an update for handling under token (unique to this
// handling). The claim lasts lease unless renewed; FinishUpdate keeps it as done
// for a long while, ReleaseUpdate drops it so a redelivery is handled again.
func (s *Store) ClaimUpdate(ctx context.Context, key, token string, lease time.Duration) (int, error) {
	n, err := claimUpdateScript.Run(ctx, s.rdb, []string{s.keys.Update(key)}, token, lease.Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("storage: claim update %s: %w", key, err)
	}
	return n, nil
}

var renewUpdateScript = redis.NewScript(`
-- KEYS[1] update key; ARGV[1] token; ARGV[2] lease ms
-- returns 1 renewed, 0 the claim is no longer this token's
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// RenewUpdate extends the claim held under token to lease from now. It reports
// false when the claim is no longer the token's (its lease ended and another
// handler took it, or it was finished).
func (s *Store) RenewUpdate(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	n, err := renewUpdateScript.Run(ctx, s.rdb, []string{s.keys.Update(key)}, token, lease.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("storage: renew update %s: %w", key, err)
	}
	return n == 1, nil
}

// FinishUpdate records an update as handled, for keep (Telegram keeps updates
// for 24 hours, so a few days is plenty).
func (s *Store) FinishUpdate(ctx context.Context, key string, keep time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys.Update(key), "done", keep).Err(); err != nil {
		return fmt.Errorf("storage: finish update %s: %w", key, err)
	}
	return nil
}

var releaseUpdateScript = redis.NewScript(`
-- KEYS[1] update key; ARGV[1] token
-- returns 1 released, 0 the claim was not this token's
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// ReleaseUpdate forgets a claim held under token whose handling failed or was
// cut off, so that the update is handled when it comes again. A claim that is
// no longer the token's is left alone.
func (s *Store) ReleaseUpdate(ctx context.Context, key, token string) error {
	if err := releaseUpdateScript.Run(ctx, s.rdb, []string{s.keys.Update(key)}, token).Err(); err != nil {
		return fmt.Errorf("storage: release update %s: %w", key, err)
	}
	return nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
