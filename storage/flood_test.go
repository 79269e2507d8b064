package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// TestFloodLimit: a user's updates past the limit within any window (sliding,
// not a fixed one) make them ignored, once (the update that went over is told
// apart), for the mute on Redis's clock; an update counted again (a retry) counts
// once; other users are not touched; the keys expire.
func TestFloodLimit(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	ctx := context.Background()
	k := s.Keys()
	l := storage.FloodLimit{Updates: 3, Window: 10 * time.Second, Mute: time.Minute}
	t0 := time.Date(2026, 4, 3, 14, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	type step struct {
		user  int64
		key   string
		at    int // ms after t0
		state int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the update past the limit is told apart, later ones are ignored", []step{
			{1, "a", 0, storage.FloodOK}, {1, "b", 100, storage.FloodOK}, {1, "c", 200, storage.FloodOK},
			{1, "d", 300, storage.FloodOver}, {1, "e", 400, storage.FloodIgnored}, {1, "f", 500, storage.FloodIgnored},
		}},
		{"a window slides: three in any ten seconds are fine", []step{
			{2, "a", 0, storage.FloodOK}, {2, "b", 9000, storage.FloodOK}, {2, "c", 9500, storage.FloodOK},
			{2, "d", 10001, storage.FloodOK}, {2, "e", 19100, storage.FloodOK},
			// c, d, e and this one are within ten seconds.
			{2, "f", 19200, storage.FloodOver},
		}},
		{"no fixed window: three at its end and one at the next's start go over", []step{
			{3, "a", 9700, storage.FloodOK}, {3, "b", 9800, storage.FloodOK}, {3, "c", 9900, storage.FloodOK},
			{3, "d", 10100, storage.FloodOver},
		}},
		{"an update tried again counts once", []step{
			{4, "a", 0, storage.FloodOK}, {4, "a", 10, storage.FloodOK}, {4, "b", 20, storage.FloodOK},
			{4, "b", 30, storage.FloodOK}, {4, "c", 40, storage.FloodOK}, {4, "c", 50, storage.FloodOK},
		}},
		{"users are counted apart", []step{
			{5, "a", 0, storage.FloodOK}, {6, "a", 0, storage.FloodOK}, {5, "b", 1, storage.FloodOK},
			{6, "b", 1, storage.FloodOK}, {5, "c", 2, storage.FloodOK}, {6, "c", 2, storage.FloodOK},
			{5, "d", 3, storage.FloodOver}, {6, "d", 3, storage.FloodOver},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, st := range tt.steps {
				f, err := s.CountUpdate(ctx, at(st.at), st.user, st.key, l)
				if err != nil {
					t.Fatal(err)
				}
				if f.State != st.state {
					t.Fatalf("step %d (user %d, %s at %d ms): state %d, want %d", i, st.user, st.key, st.at, f.State, st.state)
				}
				switch {
				case f.State == storage.FloodOver && f.Left != l.Mute:
					t.Errorf("step %d: ignored for %v, want %v", i, f.Left, l.Mute)
				case f.State == storage.FloodIgnored && (f.Left <= 0 || f.Left > l.Mute):
					t.Errorf("step %d: %v left, want within (0, %v]", i, f.Left, l.Mute)
				}
			}
		})
	}

	// What the limit keeps expires: the updates a window after the newest, the
	// mark with the mute.
	if d := rdb.PTTL(ctx, k.UserUpdates(4)).Val(); d <= 0 || d > l.Window {
		t.Errorf("a user's updates: PTTL %v, want within (0, %v]", d, l.Window)
	}
	if d := rdb.PTTL(ctx, k.UserIgnored(1)).Val(); d <= 0 || d > l.Mute {
		t.Errorf("the ignored mark: PTTL %v, want within (0, %v]", d, l.Mute)
	}
	if n := rdb.ZCard(ctx, k.UserUpdates(1)).Val(); n != 0 {
		t.Errorf("an ignored user's updates are still kept: %d", n)
	}

	// Once the mute ends (on Redis's clock), the user starts afresh.
	// A mute of a second: the third update must come within it, however slow
	// the machine is between the calls.
	short := storage.FloodLimit{Updates: 1, Window: 10 * time.Second, Mute: time.Second}
	for i, want := range []int{storage.FloodOK, storage.FloodOver, storage.FloodIgnored} {
		if f, err := s.CountUpdate(ctx, time.Time{}, 7, fmt.Sprint("m", i), short); err != nil || f.State != want {
			t.Fatalf("update %d: %+v, %v; want state %d", i, f, err, want)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Exists(ctx, k.UserIgnored(7)).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("the ignored mark did not expire")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if f, err := s.CountUpdate(ctx, time.Time{}, 7, "after", short); err != nil || f.State != storage.FloodOK {
		t.Errorf("after the mute: %+v, %v; want within the limit", f, err)
	}
}

// TestStartUpdateCountsTheSender: StartUpdate counts the update in its round
// trip; past the limit it reads nothing more of the sender than their language.
func TestStartUpdateCountsTheSender(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1001) // its secretary is user 100
	if err := s.SetUserLang(ctx, 100, "en"); err != nil {
		t.Fatal(err)
	}
	l := storage.FloodLimit{Updates: 2, Window: 10 * time.Second, Mute: time.Minute}
	wants := []int{storage.FloodOK, storage.FloodOK, storage.FloodOver, storage.FloodIgnored}
	for i, want := range wants {
		st, err := s.StartUpdate(ctx, storage.UpdateStart{Key: fmt.Sprint("flood-", i), Token: "t", Lease: time.Minute,
			UserID: 100, ChatID: 100, Flood: l})
		if err != nil {
			t.Fatal(err)
		}
		if st.State != storage.UpdateClaimed || st.Flood.State != want {
			t.Fatalf("update %d: state %d, flood %+v; want claimed, %d", i, st.State, st.Flood, want)
		}
		if st.Actor.Lang != "en" {
			t.Errorf("update %d: language %q, want en", i, st.Actor.Lang)
		}
		if got := st.Actor.Cell != nil; got != (want == storage.FloodOK) {
			t.Errorf("update %d (flood %d): cell read = %v", i, want, got)
		} else if got && st.Actor.Cell.ID != c.ID {
			t.Errorf("update %d: cell %d, want %d", i, st.Actor.Cell.ID, c.ID)
		}
	}
	// Without a limit nothing is counted.
	st, err := s.StartUpdate(ctx, storage.UpdateStart{Key: "flood-free", Token: "t", Lease: time.Minute, UserID: 100, ChatID: 100})
	if err != nil || st.Flood.State != storage.FloodOK || st.Actor.Member == nil {
		t.Errorf("start without a limit: %+v, %v", st, err)
	}
}
