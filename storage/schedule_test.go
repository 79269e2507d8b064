package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/storage"
)

// TestClaimDueOnce: several claimers racing over the same due items each get a
// disjoint share, and together all of them, in due order within a claim.
func TestClaimDueOnce(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	var items []storage.DueItem
	for i := range 500 {
		items = append(items, storage.DueItem{Kind: storage.DueRemind, CellID: int64(i % 7), MeetingID: int64(i), Arg: 7200, Version: 1, At: now.Add(-time.Duration(i) * time.Second)})
	}
	// Scheduling twice is one item each.
	if err := s.ScheduleDue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	if err := s.ScheduleDue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ClaimDue(ctx, now, time.Minute, 37)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				for i := 1; i < len(got); i++ {
					if got[i].At.Before(got[i-1].At) {
						t.Errorf("claim not in due order: %v after %v", got[i].At, got[i-1].At)
					}
				}
				mu.Lock()
				for _, d := range got {
					seen[d.Name()]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(items) {
		t.Fatalf("claimed %d distinct items, want %d", len(seen), len(items))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", name, n)
		}
	}
}

// TestDueLeaseRecover: an item not yet due is not claimed; a claimed item is not
// claimed again while leased, nor scheduled again; once its lease ends it comes
// back; an acknowledged item is gone.
func TestDueLeaseRecover(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	d := storage.DueItem{Kind: storage.DueNotice, CellID: 3, MeetingID: 9, Version: 2, At: now.Add(time.Second)}
	if err := s.ScheduleDue(ctx, d); err != nil {
		t.Fatal(err)
	}
	claim := func(at time.Time) []storage.DueItem {
		t.Helper()
		got, err := s.ClaimDue(ctx, at, 30*time.Second, 10)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := claim(now); len(got) != 0 {
		t.Fatalf("claimed %v before it was due", got)
	}
	got := claim(now.Add(time.Second))
	if len(got) != 1 || got[0].Name() != d.Name() || !got[0].At.Equal(d.At) {
		t.Fatalf("claim = %+v, want %+v", got, d)
	}
	if err := s.ScheduleDue(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got := claim(now.Add(2 * time.Second)); len(got) != 0 {
		t.Fatalf("claimed a leased item again: %v", got)
	}
	if n, err := s.RecoverDue(ctx, now.Add(10*time.Second), 10); err != nil || n != 0 {
		t.Fatalf("recovered %d, %v before the lease ended", n, err)
	}
	if n, err := s.RecoverDue(ctx, now.Add(32*time.Second), 10); err != nil || n != 1 {
		t.Fatalf("recovered %d, %v after the lease ended, want 1", n, err)
	}
	got = claim(now.Add(32 * time.Second))
	if len(got) != 1 {
		t.Fatalf("the recovered item was not claimed: %v", got)
	}
	if err := s.AckDue(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RecoverDue(ctx, now.Add(time.Hour), 10); err != nil || n != 0 {
		t.Fatalf("recovered %d, %v after the ack", n, err)
	}
	if got := claim(now.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("claimed %v after the ack", got)
	}
}

func TestParseDueItem(t *testing.T) {
	d := storage.DueItem{Kind: storage.DueRemind, CellID: 42, MeetingID: 7, Arg: 172800, Version: 3}
	got, err := storage.ParseDueItem(d.Name(), time.Time{})
	if err != nil || got != d {
		t.Errorf("ParseDueItem(%q) = %+v, %v", d.Name(), got, err)
	}
	for _, bad := range []string{"", "remind:1:2:3", "remind:x:2:3:4", fmt.Sprintf("remind:1:2:3:%s", "v")} {
		if _, err := storage.ParseDueItem(bad, time.Time{}); err == nil {
			t.Errorf("ParseDueItem(%q) took it", bad)
		}
	}
}
