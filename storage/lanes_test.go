package storage_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/storage"
)

// toChat is queueEntry's message sent to chat, of priority prio.
func toChat(id string, chat int64, prio int) storage.QueueEntry {
	e := queueEntry(id, 1)
	e.To.ChatID, e.Priority = chat, prio
	return e
}

func claimID(t *testing.T, s *storage.Store, now time.Time) (string, string) {
	t.Helper()
	e := mustClaim(t, s, now, time.Minute, "tok:"+now.String())
	if e == nil {
		return "", ""
	}
	return e.ID, e.Token
}

func mustDone(t *testing.T, s *storage.Store, id, token string) {
	t.Helper()
	if _, err := s.Done(context.Background(), queueT0, id, token, storage.ResultSent, time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestQueueLanes: one message of a chat in flight at a time, the chat's
// messages in the order they were queued, other chats going on meanwhile,
// urgent before bulk, and a bulk message held back holding only its own lane.
func TestQueueLanes(t *testing.T) {
	s, _ := newQueueStore(t)
	const lan, binh = 501, 502
	mustEnqueue(t, s, queueT0,
		toChat("lan-1", lan, storage.PriorityUrgent),
		toChat("lan-2", lan, storage.PriorityUrgent),
		toChat("binh-1", binh, storage.PriorityUrgent),
		toChat("lan-3", lan, storage.PriorityUrgent))
	id1, tok1 := claimID(t, s, queueT0)
	id2, tok2 := claimID(t, s, queueT0)
	if got := []string{id1, id2}; !cmp.Equal(got, []string{"lan-1", "binh-1"}) {
		t.Fatalf("claimed %v; want lan-1, then binh-1 (lan-2 waits for lan-1)", got)
	}
	if id, _ := claimID(t, s, queueT0); id != "" {
		t.Fatalf("claimed %s while both chats have a message in flight", id)
	}
	mustDone(t, s, id2, tok2)
	if id, _ := claimID(t, s, queueT0); id != "" {
		t.Fatalf("claimed %s while lan-1 is in flight", id)
	}
	mustDone(t, s, id1, tok1)
	id, tok := claimID(t, s, queueT0)
	if id != "lan-2" {
		t.Fatalf("after lan-1, claimed %q; want lan-2", id)
	}
	// Given back for later (a 429): the lane waits for it, in order.
	later := queueT0.Add(time.Minute)
	if _, err := s.Defer(context.Background(), id, tok, later, false); err != nil {
		t.Fatal(err)
	}
	if id, _ := claimID(t, s, queueT0); id != "" {
		t.Fatalf("claimed %s before the deferred lan-2", id)
	}
	if _, next, _ := s.Claim(context.Background(), queueT0, time.Minute, "t"); !next.Equal(later) {
		t.Errorf("next = %v, want the deferred message's %v", next, later)
	}
	id, tok = claimID(t, s, later)
	if id != "lan-2" {
		t.Fatalf("at its time claimed %q; want lan-2", id)
	}
	mustDone(t, s, id, tok)
	if id, _ := claimID(t, s, later); id != "lan-3" {
		t.Fatalf("claimed %q; want lan-3", id)
	}
}

func TestQueueLanePriorities(t *testing.T) {
	s, _ := newQueueStore(t)
	const chat = 600
	held := toChat("notice", chat, storage.PriorityBulk)
	held.NotBefore = queueT0.Add(8 * time.Hour) // quiet hours
	mustEnqueue(t, s, queueT0, held, toChat("bulk-2", chat, storage.PriorityBulk), toChat("reply", chat, storage.PriorityUrgent))
	id, tok := claimID(t, s, queueT0)
	if id != "reply" {
		t.Fatalf("claimed %q; want the reply, not held behind the bulk lane", id)
	}
	mustDone(t, s, id, tok)
	if id, _ := claimID(t, s, queueT0); id != "" {
		t.Fatalf("claimed %s: the bulk lane's first message is held", id)
	}
	id, tok = claimID(t, s, held.NotBefore)
	if id != "notice" {
		t.Fatalf("claimed %q at the end of quiet hours; want notice", id)
	}
	// A reply queued while the bulk message is in flight waits for it, then
	// goes before the rest of the bulk lane.
	mustEnqueue(t, s, queueT0, toChat("reply-2", chat, storage.PriorityUrgent))
	if id, _ := claimID(t, s, held.NotBefore); id != "" {
		t.Fatalf("claimed %s while the notice is in flight", id)
	}
	mustDone(t, s, id, tok)
	if id, _ := claimID(t, s, held.NotBefore); id != "reply-2" {
		t.Fatalf("claimed %q; want reply-2 before bulk-2", id)
	}
	d, err := s.QueueDepth(context.Background())
	if err != nil || d != (storage.QueueDepth{Ready: [2]int64{1, 1}, Leased: 1}) {
		t.Errorf("depth = %+v, %v; want reply-2 (in flight) and bulk-2", d, err)
	}
}

// TestQueueLaneRecovered: a message whose lease ended stays first in its lane,
// and the chat is free for it again.
func TestQueueLaneRecovered(t *testing.T) {
	s, _ := newQueueStore(t)
	mustEnqueue(t, s, queueT0, toChat("a", 700, storage.PriorityUrgent), toChat("b", 700, storage.PriorityUrgent))
	if id, _ := claimID(t, s, queueT0); id != "a" {
		t.Fatalf("claimed %q", id)
	}
	if r, c, err := s.RecoverLeases(context.Background(), queueT0.Add(time.Minute), 0); err != nil || r != 1 || len(c) != 0 {
		t.Fatalf("recover = %d, %v, %v", r, c, err)
	}
	if id, _ := claimID(t, s, queueT0.Add(time.Minute)); id != "a" {
		t.Fatalf("after recovery claimed %q; want a again, before b", id)
	}
}

// TestMigrateQueueLanes: messages queued before lanes (ids in ready sets) move
// into their lanes in due order; one leased then joins its lane when recovered.
func TestMigrateQueueLanes(t *testing.T) {
	ctx := context.Background()
	s, rdb := newQueueStore(t)
	k := s.Keys()
	old := func(id string, chat int64, prio int, due time.Time, state string) {
		t.Helper()
		must(t, rdb.HSet(ctx, k.QueueMsg(id), "prio", prio, "nbf", due.UnixMilli(), "chat", chat, "n", 1,
			"parts", `[{"method":"sendMessage","params":{"text":"x"}}]`, "state", state, "attempts", 0, "enq", due.UnixMilli()).Err())
		switch state {
		case "ready":
			must(t, rdb.ZAdd(ctx, k.QueueReadyV1(prio), redis.Z{Score: float64(due.UnixMilli()), Member: id}).Err())
		case "leased":
			must(t, rdb.HSet(ctx, k.QueueMsg(id), "token", "old").Err())
			must(t, rdb.ZAdd(ctx, k.QueueLeased(), redis.Z{Score: float64(due.UnixMilli()), Member: id}).Err())
		}
	}
	old("in-flight", 800, 0, queueT0, "leased")
	old("second", 800, 0, queueT0.Add(time.Second), "ready")
	old("first", 801, 1, queueT0, "ready")
	for range 2 { // idempotent
		if _, err := s.MigrateQueueLanes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.Exists(ctx, k.QueueReadyV1(0), k.QueueReadyV1(1)).Val(); n != 0 {
		t.Errorf("%d old ready sets left", n)
	}
	if _, _, err := s.RecoverLeases(ctx, queueT0.Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		e := mustClaim(t, s, queueT0.Add(time.Hour), time.Minute, "new")
		if e == nil {
			break
		}
		got = append(got, e.ID)
		mustDone(t, s, e.ID, "new")
	}
	if diff := cmp.Diff([]string{"in-flight", "second", "first"}, got); diff != "" {
		t.Errorf("claimed after the migration (-want +got):\n%s", diff)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestQueueResults: the message id Telegram gave a message queued with a
// result name is recorded when it completes, by its worker or by the recoverer
// after its worker died.
func TestQueueResults(t *testing.T) {
	ctx := context.Background()
	s, _ := newQueueStore(t)
	post := toChat("post", 900, storage.PriorityUrgent)
	post.Result = "group-notice:1:2"
	crashed := toChat("crashed", 901, storage.PriorityUrgent)
	crashed.Result = "progress:job"
	mustEnqueue(t, s, queueT0, post, crashed)
	for _, id := range []string{"post", "crashed"} {
		e := mustClaim(t, s, queueT0, time.Minute, "tok-"+id)
		if e == nil || e.Result == "" {
			t.Fatalf("claimed %+v", e)
		}
		must(t, s.MarkSent(ctx, e.ID, 0, map[string]int{"post": 4242, "crashed": 77}[e.ID]))
		if e.ID == "post" {
			mustDone(t, s, e.ID, e.Token)
		}
	}
	if _, _, err := s.RecoverLeases(ctx, queueT0.Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"group-notice:1:2": 4242, "progress:job": 77, "never": 0} {
		if got, err := s.QueueResult(ctx, name); err != nil || got != want {
			t.Errorf("result %s = %d, %v; want %d", name, got, err, want)
		}
	}
}

// TestQueueCoalesce: an edit queued while an earlier edit of the same message
// waits replaces its text in place; once that one is in flight, the next is a
// message of its own, after it.
func TestQueueCoalesce(t *testing.T) {
	s, _ := newQueueStore(t)
	edit := func(id, text string) storage.QueueEntry {
		e := toChat(id, 950, storage.PriorityUrgent)
		e.Coalesce = "counts:1:2"
		e.Parts = []json.RawMessage{json.RawMessage(`{"method":"editMessageText","params":{"text":"` + text + `"}}`)}
		return e
	}
	if n := mustEnqueue(t, s, queueT0, edit("e1", "3 coming")); n != 1 {
		t.Fatalf("first edit added %d", n)
	}
	if n := mustEnqueue(t, s, queueT0, edit("e2", "4 coming"), edit("e3", "5 coming")); n != 0 {
		t.Fatalf("edits of a waiting edit added %d, want 0", n)
	}
	e := mustClaim(t, s, queueT0, time.Minute, "t1")
	if e == nil || e.ID != "e1" || !strings.Contains(string(e.Parts[0]), "5 coming") {
		t.Fatalf("claimed %+v; want e1 with the latest text", e)
	}
	if n := mustEnqueue(t, s, queueT0, edit("e4", "6 coming")); n != 1 {
		t.Fatalf("an edit after the waiting one went added %d, want 1", n)
	}
	if got := mustClaim(t, s, queueT0, time.Minute, "t2"); got != nil {
		t.Fatalf("claimed %s while e1 is in flight", got.ID)
	}
	mustDone(t, s, e.ID, e.Token)
	if got := mustClaim(t, s, queueT0, time.Minute, "t3"); got == nil || got.ID != "e4" {
		t.Fatalf("claimed %v; want e4", got)
	}
}
