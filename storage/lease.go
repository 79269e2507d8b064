package storage

// Named leases that one process holds at a time, such as the right to poll
// Telegram (only one getUpdates may be open per bot: a second one gets 409
// Conflict). A lease is a key holding the holder's token with a PX; its expiry is
// kept by Redis's clock, so replicas whose clocks drift agree on when it ends.

import (
	"context"
	"fmt"
	"time"
)

// LeasePoll is the lease of the process that polls Telegram for updates.
const LeasePoll = "poll"

// acquireLeaseScript takes a free lease, or renews it for its holder.
//
//	KEYS[1] lease   ARGV[1] token   ARGV[2] ttl (ms)
//
// Returns 1 when the token holds the lease for ttl from now, 0 when another
// token holds it.
var acquireLeaseScript = newScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// AcquireLease takes the lease name for token, or renews it when token holds it,
// for ttl from now (Redis's now). It reports whether token holds it.
func (s *Store) AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	n, err := acquireLeaseScript.Run(ctx, s.rdb, []string{s.keys.Lease(name)}, token, max(ttl.Milliseconds(), 1)).Int()
	if err != nil {
		return false, fmt.Errorf("storage: acquire lease %s: %w", name, err)
	}
	return n == 1, nil
}

// releaseLeaseScript drops a lease held by a token.
//
//	KEYS[1] lease   ARGV[1] token
//
// Returns 1 when released, 0 when the token did not hold it.
var releaseLeaseScript = newScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// ReleaseLease gives up the lease name when token holds it, so that another
// process takes it at once instead of when it expires.
func (s *Store) ReleaseLease(ctx context.Context, name, token string) error {
	if err := releaseLeaseScript.Run(ctx, s.rdb, []string{s.keys.Lease(name)}, token).Err(); err != nil {
		return fmt.Errorf("storage: release lease %s: %w", name, err)
	}
	return nil
}
