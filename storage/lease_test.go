package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// TestLease: one token holds a lease at a time; its holder renews and releases
// it; another token takes it once released or expired (Redis's clock).
func TestLease(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	ctx := context.Background()
	take := func(token string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, storage.LeasePoll, token, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("a", time.Minute) {
		t.Fatal("a free lease was refused")
	}
	if take("b", time.Minute) {
		t.Fatal("b took a's lease")
	}
	if !take("a", time.Minute) {
		t.Fatal("a could not renew its lease")
	}
	if ttl := rdb.PTTL(ctx, s.Keys().Lease(storage.LeasePoll)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("lease PTTL = %v", ttl)
	}
	if err := s.ReleaseLease(ctx, storage.LeasePoll, "b"); err != nil {
		t.Fatal(err)
	}
	if take("b", time.Minute) {
		t.Fatal("b's release dropped a's lease")
	}
	if err := s.ReleaseLease(ctx, storage.LeasePoll, "a"); err != nil {
		t.Fatal(err)
	}
	if !take("b", 30*time.Millisecond) {
		t.Fatal("b could not take a released lease")
	}
	// b dies: its lease ends by Redis's clock and a takes it.
	deadline := time.Now().Add(5 * time.Second)
	for !take("a", time.Minute) {
		if time.Now().After(deadline) {
			t.Fatal("b's lease did not end")
		}
		time.Sleep(10 * time.Millisecond) // a poll with a deadline: the expiry is Redis's own
	}
}
