package scheduler_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// TestPlannedRound: a round is planned ahead of its due time, spread over the
// half hour before it; a member who asks to be excused, or a meeting moved,
// after the round was queued stops what was planned; the group's counts and
// the committee's list go at the end of the window with the counts of then.
func TestPlannedRound(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	store := storage.New(rdb, prefix)
	start := time.Date(2027, 4, 3, 14, 0, 0, 0, time.UTC) // 21:00 in Hà Nội
	due := start.Add(-2 * time.Hour)
	const members = 6
	seedCells(t, store, rdb, 1, members, start)
	const cellID, meetingID = 1, 1
	clock := &simClock{t: due.Add(-time.Hour)}
	sched, err := scheduler.New(scheduler.Params{Store: store, Delivery: simQueue{store, clock}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	run := func() int {
		t.Helper()
		if err := sched.PlanOnce(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := sched.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := run(); n != 0 {
		t.Fatalf("an hour before the due time, %d items ran", n)
	}
	clock.t = due.Add(-scheduler.Spread + 10*time.Second)
	if n := run(); n != 1 {
		t.Fatalf("half an hour before the due time, %d items ran; want the round", n)
	}
	d, err := store.QueueDepth(ctx)
	if err != nil || d.Wave != members || d.Ready[0] != 0 {
		t.Fatalf("depth = %+v, %v; want the %d members' reminders in the wave", d, err, members)
	}
	// Member 2 asks to be excused once the round is queued.
	if _, err := store.Answer(ctx, cellID, meetingID, cell.Answer{MemberID: 2, Kind: cell.Excused, Reason: cell.ReasonIllness, At: clock.t}, clock.t); err != nil {
		t.Fatal(err)
	}
	var sent []time.Time
	var skipped []int64
	for clock.t.Before(due) {
		clock.t = clock.t.Add(5 * time.Second)
		run()
		if _, _, err := store.ReleaseWave(ctx, clock.t, clock.t, storage.QueueBatch); err != nil {
			t.Fatal(err)
		}
		for {
			e, _, err := store.Claim(ctx, clock.t, time.Minute, "tok")
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				break
			}
			result := storage.ResultSent
			switch {
			case e.Template != "" && !sched.Wanted(ctx, e):
				skipped = append(skipped, e.To.MemberID)
				result = storage.ResultSkipped
			case e.Template != "":
				sent = append(sent, clock.t)
				var p telegram.Raw
				if err := json.Unmarshal(e.Parts[0], &p); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(p.Values["text"], "21:00 hôm nay") {
					t.Errorf("reminder text %q; want the meeting's time and day", p.Values["text"])
				}
			case e.Purpose == "reminder counts":
				if !clock.t.After(due.Add(-time.Minute)) {
					t.Errorf("the group's counts went at %v, before the end of the window", clock.t)
				}
			}
			if _, err := store.Done(ctx, clock.t, e.ID, e.Token, result, time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(sent) != members-1 || len(skipped) != 1 || skipped[0] != 2 {
		t.Fatalf("sent %d reminders, skipped %v; want %d sent and member 2 skipped", len(sent), skipped, members-1)
	}
	first, last := sent[0], sent[len(sent)-1]
	if due.Sub(first) > scheduler.Spread || !last.Before(due) || last.Sub(first) < 20*time.Minute {
		t.Fatalf("reminders went from %v to %v before the due time; want spread over the half hour before it",
			due.Sub(first), due.Sub(last))
	}
	if d, err := store.QueueDepth(ctx); err != nil || d.Wave+d.Ready[0]+d.Ready[1] != 0 {
		t.Fatalf("depth at the due time = %+v, %v; want all sent (the group's counts and the list too)", d, err)
	}
}

// TestPlannedRoundOfAMovedMeeting: reminders planned for a meeting that was
// moved meanwhile are not sent.
func TestPlannedRoundOfAMovedMeeting(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	store := storage.New(rdb, prefix)
	start := time.Date(2027, 4, 3, 14, 0, 0, 0, time.UTC)
	due := start.Add(-2 * time.Hour)
	seedCells(t, store, rdb, 1, 3, start)
	clock := &simClock{t: due.Add(-scheduler.Spread + 10*time.Second)}
	sched, err := scheduler.New(scheduler.Params{Store: store, Delivery: simQueue{store, clock}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := sched.PlanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := sched.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("ran %d, %v; want the round", n, err)
	}
	if _, err := store.UpdateMeeting(ctx, 1, 1, func(m *cell.Meeting) error {
		m.Start = m.Start.Add(24 * time.Hour)
		m.Version++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clock.t = due
	if _, _, err := store.ReleaseWave(ctx, clock.t, clock.t, storage.QueueBatch); err != nil {
		t.Fatal(err)
	}
	for {
		e, _, err := store.Claim(ctx, clock.t, time.Minute, "tok")
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.Template != "" && sched.Wanted(ctx, e) {
			t.Errorf("reminder %s of the moved meeting is still wanted", e.ID)
		}
		if _, err := store.Done(ctx, clock.t, e.ID, e.Token, storage.ResultSkipped, time.Second); err != nil {
			t.Fatal(err)
		}
	}
}
