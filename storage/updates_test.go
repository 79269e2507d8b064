package storage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// TestUpdateLease checks the short claim of an update: only its holder renews or
// releases it, and once its lease ends (the holder was killed) another handler
// claims it.
func TestUpdateLease(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	ctx := context.Background()
	if st, err := s.ClaimUpdate(ctx, "7-x", "a", time.Minute); err != nil || st != storage.UpdateClaimed {
		t.Fatalf("claim = %d, %v", st, err)
	}
	if ok, err := s.RenewUpdate(ctx, "7-x", "b", time.Minute); err != nil || ok {
		t.Errorf("renew by another token = %v, %v; want false", ok, err)
	}
	if err := s.ReleaseUpdate(ctx, "7-x", "b"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.ClaimUpdate(ctx, "7-x", "b", time.Minute); st != storage.UpdateInProgress {
		t.Errorf("claim after another token's release = %d, want in progress", st)
	}
	if ok, err := s.RenewUpdate(ctx, "7-x", "a", time.Minute); err != nil || !ok {
		t.Errorf("renew by holder = %v, %v; want true", ok, err)
	}

	// The holder dies: its lease (shortened here as if the last renewal was
	// long ago) ends, and another handler takes the update.
	if ok, _ := s.RenewUpdate(ctx, "7-x", "a", 50*time.Millisecond); !ok {
		t.Fatal("shorten lease")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := s.ClaimUpdate(ctx, "7-x", "b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if st == storage.UpdateClaimed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("update still held after its lease ended: %d", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ok, _ := s.RenewUpdate(ctx, "7-x", "a", time.Minute); ok {
		t.Error("the dead holder renewed a claim it lost")
	}
	if err := s.FinishUpdate(ctx, "7-x", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.RenewUpdate(ctx, "7-x", "b", time.Minute); ok {
		t.Error("renewed a finished update")
	}
	if st, _ := s.ClaimUpdate(ctx, "7-x", "c", time.Minute); st != storage.UpdateDone {
		t.Errorf("claim after finish = %d, want done", st)
	}
}

// TestChatQueued: while the queue holds or sends an urgent message for a chat,
// replies to it join its lane; a bulk message waiting does not hold them back.
func TestChatQueued(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	ctx := context.Background()
	now := time.Now()
	if q, err := s.ChatQueued(ctx, 5); err != nil || q {
		t.Fatalf("nothing queued: %v, %v", q, err)
	}
	if _, err := s.Enqueue(ctx, now, []storage.QueueEntry{{ID: "bulk:1", To: storage.QueueRecipient{ChatID: 5},
		Priority: storage.PriorityBulk, NotBefore: now.Add(time.Hour), Parts: []json.RawMessage{json.RawMessage(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.ChatQueued(ctx, 5); q {
		t.Error("a bulk message waiting holds replies back")
	}
	if _, err := s.Enqueue(ctx, now, []storage.QueueEntry{{ID: "reply:1", To: storage.QueueRecipient{ChatID: 5},
		Priority: storage.PriorityUrgent, Parts: []json.RawMessage{json.RawMessage(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.ChatQueued(ctx, 5); !q {
		t.Error("a waiting reply is not reported")
	}
	if q, _ := s.ChatQueued(ctx, 6); q {
		t.Error("another chat is reported")
	}
	e, _, err := s.Claim(ctx, now, time.Minute, "tok")
	if err != nil || e == nil || e.ID != "reply:1" {
		t.Fatalf("claim: %v, %v", e, err)
	}
	if q, _ := s.ChatQueued(ctx, 5); !q {
		t.Error("a reply in flight is not reported")
	}
	if _, err := s.Done(ctx, now, e.ID, e.Token, storage.ResultSent, time.Second); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.ChatQueued(ctx, 5); q {
		t.Error("a sent reply still holds the chat")
	}
}
