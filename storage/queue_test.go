package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

var queueT0 = time.UnixMilli(1_700_000_000_000)

func newQueueStore(t *testing.T) (*storage.Store, *redis.Client) {
	t.Helper()
	rdb, prefix := testenv.RedisEnv(t)
	return storage.New(rdb, prefix), rdb
}

// queueEntry is a message of n parts to a chat of its own (one per id), so
// that entries of one test do not wait in one chat's lane unless a test says so.
func queueEntry(id string, n int) storage.QueueEntry {
	h := fnv.New32a()
	h.Write([]byte(id))
	e := storage.QueueEntry{ID: id, Purpose: "test", Priority: storage.PriorityBulk,
		To: storage.QueueRecipient{CellID: 7, MemberID: 3, ChatID: 1000 + int64(h.Sum32()%1_000_000), Name: "Lan " + id}}
	for i := range n {
		e.Parts = append(e.Parts, json.RawMessage(fmt.Sprintf(`{"method":"sendMessage","params":{"text":"%s/%d"}}`, id, i)))
	}
	return e
}

func mustEnqueue(t *testing.T, s *storage.Store, now time.Time, entries ...storage.QueueEntry) int {
	t.Helper()
	n, err := s.Enqueue(context.Background(), now, entries)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustClaim(t *testing.T, s *storage.Store, now time.Time, lease time.Duration, token string) *storage.QueueEntry {
	t.Helper()
	e, _, err := s.Claim(context.Background(), now, lease, token)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestQueueEnqueueClaimDone(t *testing.T) {
	ctx := context.Background()
	s, rdb := newQueueStore(t)
	in := queueEntry("bc:1:3", 2)
	if n := mustEnqueue(t, s, queueT0, in); n != 1 {
		t.Fatalf("first enqueue added %d, want 1", n)
	}
	// An update handled twice enqueues twice: the second is a no-op.
	in2 := in
	in2.Parts = in.Parts[:1]
	if n := mustEnqueue(t, s, queueT0, in2); n != 0 {
		t.Fatalf("second enqueue added %d, want 0", n)
	}
	e := mustClaim(t, s, queueT0, time.Minute, "tok")
	if e == nil {
		t.Fatal("nothing claimed")
	}
	want := in
	want.Enqueued, want.NotBefore, want.Token = queueT0, queueT0, "tok"
	if diff := cmp.Diff(&want, e); diff != "" {
		t.Errorf("claimed entry (-want +got):\n%s", diff)
	}
	// The scripts build key names themselves: they must be keys.go's.
	k := s.Keys()
	if score, err := rdb.ZScore(ctx, k.QueueLeased(), in.ID).Result(); err != nil || score != float64(queueT0.Add(time.Minute).UnixMilli()) {
		t.Errorf("lease score %v, %v", score, err)
	}
	if e2 := mustClaim(t, s, queueT0, time.Minute, "tok2"); e2 != nil {
		t.Fatalf("claimed %s twice", e2.ID)
	}
	for i := range 2 {
		if err := s.MarkSent(ctx, in.ID, i, 0); err != nil {
			t.Fatal(err)
		}
		if n := rdb.Exists(ctx, k.QueueSent(fmt.Sprintf("%s:%d", in.ID, i))).Val(); n != 1 {
			t.Errorf("sent marker %d missing", i)
		}
	}
	if _, err := s.Done(ctx, queueT0, in.ID, "other", storage.ResultSent, time.Second); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("Done with a wrong token: %v, want ErrLeaseLost", err)
	}
	if _, err := s.Done(ctx, queueT0, in.ID, "tok", storage.ResultSent, time.Second); err != nil {
		t.Fatal(err)
	}
	if n := rdb.ZCard(ctx, k.QueueLeased()).Val(); n != 0 {
		t.Errorf("leased has %d after Done", n)
	}
	if ttl := rdb.PTTL(ctx, k.QueueMsg(in.ID)).Val(); ttl <= 0 || ttl > storage.QueueRetention {
		t.Errorf("done message ttl %v", ttl)
	}
	// Done, it is still known: enqueuing it again does not send it again.
	if n := mustEnqueue(t, s, queueT0, in); n != 0 {
		t.Errorf("enqueue after done added %d, want 0", n)
	}
	if e := mustClaim(t, s, queueT0.Add(time.Hour), time.Minute, "tok3"); e != nil {
		t.Errorf("claimed %s after done", e.ID)
	}
}

func TestQueueClaimOrder(t *testing.T) {
	s, _ := newQueueStore(t)
	bulk := queueEntry("bulk", 1)
	urgent := queueEntry("urgent", 1)
	urgent.Priority = storage.PriorityUrgent
	later := queueEntry("later", 1)
	later.Priority = storage.PriorityUrgent
	later.NotBefore = queueT0.Add(10 * time.Minute) // quiet hours
	mustEnqueue(t, s, queueT0, bulk, later, urgent)

	var got []string
	for {
		e := mustClaim(t, s, queueT0, time.Minute, "t")
		if e == nil {
			break
		}
		got = append(got, e.ID)
	}
	if diff := cmp.Diff([]string{"urgent", "bulk"}, got); diff != "" {
		t.Errorf("claim order (-want +got):\n%s", diff)
	}
	_, next, err := s.Claim(context.Background(), queueT0, time.Minute, "t")
	if err != nil || !next.Equal(later.NotBefore) {
		t.Errorf("next = %v, %v; want %v", next, err, later.NotBefore)
	}
	if e := mustClaim(t, s, later.NotBefore, time.Minute, "t"); e == nil || e.ID != "later" {
		t.Errorf("at its time claimed %v, want later", e)
	}
	_, next, err = s.Claim(context.Background(), queueT0, time.Minute, "t")
	if err != nil || !next.IsZero() {
		t.Errorf("empty queue: next = %v, %v; want zero", next, err)
	}
}

func TestQueueRecover(t *testing.T) {
	const lease = 30 * time.Second
	tests := []struct {
		name      string
		parts     int
		sent      []int // parts marked sent before the worker "died"
		requeued  int
		completed int
		first     int // FirstUnsent at the next claim
	}{
		{name: "nothing sent", parts: 2, requeued: 1, first: 0},
		{name: "first part sent", parts: 3, sent: []int{0}, requeued: 1, first: 1},
		{name: "all sent", parts: 2, sent: []int{0, 1}, completed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newQueueStore(t)
			in := queueEntry("m", tt.parts)
			in.JobID = "j"
			if _, err := s.CreateQueueJob(ctx, queueT0, storage.QueueJob{ID: "j"}, 1); err != nil {
				t.Fatal(err)
			}
			mustEnqueue(t, s, queueT0, in)
			if mustClaim(t, s, queueT0, lease, "dead") == nil {
				t.Fatal("nothing claimed")
			}
			for _, p := range tt.sent {
				if err := s.MarkSent(ctx, in.ID, p, 0); err != nil {
					t.Fatal(err)
				}
			}
			// Before the lease ends nothing moves.
			if r, c, err := s.RecoverLeases(ctx, queueT0.Add(lease-time.Millisecond), 0); err != nil || r+len(c) != 0 {
				t.Fatalf("recover before the lease ended: %d, %v, %v", r, c, err)
			}
			r, c, err := s.RecoverLeases(ctx, queueT0.Add(lease), 0)
			if err != nil || r != tt.requeued || len(c) != tt.completed {
				t.Fatalf("recover = %d requeued, %v completed, %v; want %d, %d", r, c, err, tt.requeued, tt.completed)
			}
			for _, done := range c {
				if done.ID != in.ID || done.Purpose != "test" {
					t.Errorf("completed %+v, want %s of purpose %q", done, in.ID, "test")
				}
			}
			e := mustClaim(t, s, queueT0.Add(lease), lease, "alive")
			if tt.requeued == 0 {
				if e != nil {
					t.Fatalf("claimed %s again although all its parts were sent", e.ID)
				}
				st, err := s.QueueJobState(ctx, "j", 10)
				if err != nil || st.Sent != 1 || !st.Done {
					t.Errorf("job after recovery: %+v, %v", st, err)
				}
				return
			}
			if e == nil || e.FirstUnsent != tt.first {
				t.Fatalf("claimed %+v, want first unsent %d", e, tt.first)
			}
			// The dead worker's token no longer completes it.
			if _, err := s.Done(ctx, queueT0, in.ID, "dead", storage.ResultSent, time.Second); !errors.Is(err, storage.ErrLeaseLost) {
				t.Errorf("Done with the expired lease: %v, want ErrLeaseLost", err)
			}
		})
	}
}

// A message deferred after its parts were sent (a worker that died between its
// marker and Done, then the message came back due) is completed at claim.
func TestQueueClaimSkipsSent(t *testing.T) {
	ctx := context.Background()
	s, _ := newQueueStore(t)
	mustEnqueue(t, s, queueT0, queueEntry("a", 1), queueEntry("b", 1))
	if err := s.MarkSent(ctx, "a", 0, 0); err != nil {
		t.Fatal(err)
	}
	e := mustClaim(t, s, queueT0, time.Minute, "t")
	if e == nil || e.ID != "b" {
		t.Fatalf("claimed %v, want b", e)
	}
	if e := mustClaim(t, s, queueT0, time.Minute, "t"); e != nil {
		t.Fatalf("claimed %s", e.ID)
	}
}

func TestQueueDefer(t *testing.T) {
	ctx := context.Background()
	s, _ := newQueueStore(t)
	mustEnqueue(t, s, queueT0, queueEntry("m", 1))
	mustClaim(t, s, queueT0, time.Minute, "t1")
	if n, err := s.Defer(ctx, "m", "t1", queueT0.Add(time.Second), false); err != nil || n != 0 {
		t.Fatalf("defer for a rate limit: %d, %v; want 0 attempts", n, err)
	}
	if e := mustClaim(t, s, queueT0, time.Minute, "t2"); e != nil {
		t.Fatal("claimed a deferred message before its time")
	}
	e := mustClaim(t, s, queueT0.Add(time.Second), time.Minute, "t3")
	if e == nil {
		t.Fatal("deferred message not claimed at its time")
	}
	if n, err := s.Defer(ctx, "m", "t3", queueT0.Add(2*time.Second), true); err != nil || n != 1 {
		t.Fatalf("defer after a network error: %d, %v; want 1 attempt", n, err)
	}
	if _, err := s.Defer(ctx, "m", "t3", queueT0, true); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("defer without the lease: %v, want ErrLeaseLost", err)
	}
	if e = mustClaim(t, s, queueT0.Add(2*time.Second), time.Minute, "t4"); e == nil || e.Attempts != 1 {
		t.Errorf("claimed %+v, want attempts 1", e)
	}
	if err := s.ExtendLease(ctx, "m", "t4", queueT0, time.Hour); err != nil {
		t.Error(err)
	}
	if err := s.ExtendLease(ctx, "m", "t3", queueT0, time.Hour); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("extend without the lease: %v, want ErrLeaseLost", err)
	}
}

func TestQueueJob(t *testing.T) {
	ctx := context.Background()
	s, rdb := newQueueStore(t)
	job := storage.QueueJob{ID: "j1", CellID: 7, Purpose: "broadcast", Lang: "vi", ReportChatID: 500, ProgressMessageID: 9}
	if ok, err := s.CreateQueueJob(ctx, queueT0, job, 3); err != nil || !ok {
		t.Fatalf("create: %v, %v", ok, err)
	}
	if ok, err := s.CreateQueueJob(ctx, queueT0, job, 99); err != nil || ok {
		t.Fatalf("create again: %v, %v; want false", ok, err)
	}
	var entries []storage.QueueEntry
	for _, id := range []string{"a", "b", "c"} {
		e := queueEntry(id, 1)
		e.JobID = job.ID
		entries = append(entries, e)
	}
	mustEnqueue(t, s, queueT0, entries...)
	results := map[string]storage.QueueResult{"a": storage.ResultSent, "b": storage.ResultUnreachable, "c": storage.ResultFailed}
	var dones []storage.QueueDone
	for range 3 {
		e := mustClaim(t, s, queueT0, time.Minute, "t")
		d, err := s.Done(ctx, queueT0, e.ID, "t", results[e.ID], time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		dones = append(dones, d)
	}
	want := []storage.QueueDone{
		{QueueJobCounts: storage.QueueJobCounts{Total: 3, Sent: 1}, ProgressDue: true},
		{QueueJobCounts: storage.QueueJobCounts{Total: 3, Sent: 1, Unreachable: 1}},
		{QueueJobCounts: storage.QueueJobCounts{Total: 3, Sent: 1, Unreachable: 1, Failed: 1}, Completed: true},
	}
	if diff := cmp.Diff(want, dones); diff != "" {
		t.Errorf("Done results (-want +got):\n%s", diff)
	}
	st, err := s.QueueJobState(ctx, job.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantSt := storage.QueueJobState{QueueJob: job, QueueJobCounts: want[2].QueueJobCounts, Done: true,
		UnreachableNames: []string{"Lan b"}, FailedNames: []string{"Lan c"}}
	if diff := cmp.Diff(wantSt, st); diff != "" {
		t.Errorf("job state (-want +got):\n%s", diff)
	}
	// Exactly one finisher gets the job until its lease ends.
	ids, err := s.ClaimFinishedJobs(ctx, queueT0, time.Minute, 0)
	if err != nil || !cmp.Equal(ids, []string{"j1"}) {
		t.Fatalf("finishing = %v, %v", ids, err)
	}
	if ids, _ := s.ClaimFinishedJobs(ctx, queueT0.Add(time.Second), time.Minute, 0); len(ids) != 0 {
		t.Errorf("finishing claimed twice: %v", ids)
	}
	if ids, _ := s.ClaimFinishedJobs(ctx, queueT0.Add(time.Minute), time.Minute, 0); len(ids) != 1 {
		t.Errorf("finishing not taken over after its lease: %v", ids)
	}
	if err := s.ReleaseFinishedJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.ClaimFinishedJobs(ctx, queueT0.Add(time.Hour), time.Minute, 0); len(ids) != 0 {
		t.Errorf("finishing after release: %v", ids)
	}
	k := s.Keys()
	for _, key := range []string{k.QueueJob(job.ID), k.QueueJobUnreachable(job.ID), k.QueueJobFailed(job.ID)} {
		if ttl := rdb.PTTL(ctx, key).Val(); ttl <= 0 || ttl > storage.QueueRetention {
			t.Errorf("%s ttl %v", key, ttl)
		}
	}
}

func TestQueueEmptyJobCompletesAtOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newQueueStore(t)
	if _, err := s.CreateQueueJob(ctx, queueT0, storage.QueueJob{ID: "none"}, 0); err != nil {
		t.Fatal(err)
	}
	ids, err := s.ClaimFinishedJobs(ctx, queueT0, time.Minute, 0)
	if err != nil || !cmp.Equal(ids, []string{"none"}) {
		t.Errorf("finishing = %v, %v", ids, err)
	}
}

// Each script call does bounded work: recovery moves QueueBatch leases a call,
// a claim looks at QueueBatch due entries at most, an enqueue is split.
func TestQueueBoundedBatches(t *testing.T) {
	ctx := context.Background()
	s, rdb := newQueueStore(t)
	const n = 2*storage.QueueBatch + 50
	var entries []storage.QueueEntry
	for i := range n {
		entries = append(entries, queueEntry(fmt.Sprintf("m%03d", i), 1))
	}
	if got := mustEnqueue(t, s, queueT0, entries...); got != n {
		t.Fatalf("enqueued %d, want %d", got, n)
	}
	for range n {
		if mustClaim(t, s, queueT0, time.Second, "t") == nil {
			t.Fatal("claim ran dry")
		}
	}
	var batches []int
	for {
		r, c, err := s.RecoverLeases(ctx, queueT0.Add(time.Second), 0)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, r+len(c))
		if r+len(c) < storage.QueueBatch {
			break
		}
	}
	if diff := cmp.Diff([]int{storage.QueueBatch, storage.QueueBatch, 50}, batches); diff != "" {
		t.Errorf("recover batches (-want +got):\n%s", diff)
	}
	// All but the last have been sent: a claim completes at most QueueBatch of
	// them, then says to come back at once.
	for i := range n - 1 {
		if err := s.MarkSent(ctx, entries[i].ID, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	now := queueT0.Add(2 * time.Second)
	e, next, err := s.Claim(ctx, now, time.Second, "t")
	if err != nil || e != nil || !next.Equal(now) {
		t.Fatalf("claim over sent entries = %v, %v, %v; want nil, now", e, next, err)
	}
	if left := rdb.ZCard(ctx, s.Keys().QueueReady(storage.PriorityBulk)).Val(); left != n-storage.QueueBatch {
		t.Errorf("%d left ready after one claim, want %d", left, n-storage.QueueBatch)
	}
	for {
		e, next, err = s.Claim(ctx, now, time.Second, "t")
		if err != nil {
			t.Fatal(err)
		}
		if e != nil || !next.Equal(now) {
			break
		}
	}
	if e == nil || e.ID != entries[n-1].ID {
		t.Errorf("claimed %v, want the one unsent %s", e, entries[n-1].ID)
	}
}

func TestQueueRejectsBadEntries(t *testing.T) {
	s, _ := newQueueStore(t)
	bad := []storage.QueueEntry{
		{ID: "", Parts: []json.RawMessage{json.RawMessage(`{}`)}},
		{ID: "noparts"},
		{ID: "prio", Priority: 5, Parts: []json.RawMessage{json.RawMessage(`{}`)}},
	}
	for _, e := range bad {
		if _, err := s.Enqueue(context.Background(), queueT0, []storage.QueueEntry{e}); err == nil {
			t.Errorf("enqueue %+v: no error", e)
		}
	}
}

// A worker that stalled past its lease learns before sending that it lost it,
// whether the message went back to the ready set or to another holder.
func TestQueueExtendAfterRecovery(t *testing.T) {
	ctx := context.Background()
	s, _ := newQueueStore(t)
	mustEnqueue(t, s, queueT0, queueEntry("m", 1))
	if mustClaim(t, s, queueT0, time.Second, "slow") == nil {
		t.Fatal("nothing claimed")
	}
	if err := s.ExtendLease(ctx, "m", "slow", queueT0, time.Minute); err != nil {
		t.Fatalf("extend while held: %v", err)
	}
	if requeued, _, err := s.RecoverLeases(ctx, queueT0.Add(2*time.Minute), 10); err != nil || requeued != 1 {
		t.Fatalf("recover = %d, %v", requeued, err)
	}
	if err := s.ExtendLease(ctx, "m", "slow", queueT0.Add(2*time.Minute), time.Minute); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("extend after recovery: %v, want ErrLeaseLost", err)
	}
	if mustClaim(t, s, queueT0.Add(2*time.Minute), time.Minute, "new") == nil {
		t.Fatal("the recovered message was not claimable")
	}
	if err := s.ExtendLease(ctx, "m", "slow", queueT0.Add(2*time.Minute), time.Minute); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("extend by the old holder: %v, want ErrLeaseLost", err)
	}
}

// TestQueueLeasesOnRedisClock: with the zero now, as delivery
// passes it, a lease's end and what is due are read from Redis's clock, so
// replicas whose own clocks drift agree: a lease ends lease after Redis's now,
// and a recoverer does not take a message whose lease has not ended there.
func TestQueueLeasesOnRedisClock(t *testing.T) {
	ctx := context.Background()
	s, rdb := newQueueStore(t)
	var redisClock time.Time
	mustEnqueue(t, s, redisClock, queueEntry("m", 1))
	before := rdb.Time(ctx).Val()
	e := mustClaim(t, s, redisClock, time.Minute, "tok")
	after := rdb.Time(ctx).Val()
	if e == nil {
		t.Fatal("a message enqueued on Redis's clock was not due on it")
	}
	end := time.UnixMilli(int64(rdb.ZScore(ctx, s.Keys().QueueLeased(), "m").Val()))
	if end.Before(before.Add(time.Minute).Add(-time.Millisecond)) || end.After(after.Add(time.Minute)) {
		t.Errorf("lease ends at %v, want a minute after Redis's %v", end, before)
	}
	if r, c, err := s.RecoverLeases(ctx, redisClock, 0); err != nil || r+len(c) != 0 {
		t.Errorf("recovered %d+%v, %v from a lease that has not ended on Redis's clock", r, c, err)
	}
	if err := s.ExtendLease(ctx, "m", "tok", redisClock, time.Hour); err != nil {
		t.Fatal(err)
	}
	end = time.UnixMilli(int64(rdb.ZScore(ctx, s.Keys().QueueLeased(), "m").Val()))
	if end.Before(before.Add(time.Hour).Add(-time.Millisecond)) {
		t.Errorf("extended lease ends at %v, want an hour after Redis's %v", end, before)
	}
	if _, err := s.Done(ctx, redisClock, "m", "tok", storage.ResultSent, time.Second); err != nil {
		t.Fatal(err)
	}
}
