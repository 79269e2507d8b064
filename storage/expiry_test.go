package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// TestWhatExpires: handled update ids, delivery markers, locks
// and leases, and dialogue states expire; answers, presence, outcomes and
// meetings are kept for the minutes. Read from each key's PTTL after the
// methods that write it.
func TestWhatExpires(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	k := s.Keys()
	const cellID, memberID, userID = 7, 3, 42

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ClaimUpdate(ctx, "9", "tok", time.Minute); err != nil {
		t.Fatal(err)
	}
	claimTTL := rdb.PTTL(ctx, k.Update("9")).Val()
	must(s.FinishUpdate(ctx, "9", 72*time.Hour))
	mustEnqueue(t, s, queueT0, queueEntry("m", 1))
	e := mustClaim(t, s, queueT0, time.Minute, "tok")
	must(s.MarkSent(ctx, e.ID, 0, 0))
	if _, err := s.Done(ctx, queueT0, e.ID, "tok", storage.ResultSent, time.Second); err != nil {
		t.Fatal(err)
	}
	must(s.SetDialogue(ctx, userID, storage.Dialogue{Kind: "test"}, 30*time.Minute))
	if _, err := s.AcquireLease(ctx, storage.LeasePoll, "tok", 4*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Reserve(ctx, time.Time{}, 1003, storage.DefaultRateLimits(), time.Second); err != nil {
		t.Fatal(err)
	}

	m, _, err := s.CreateMeeting(ctx, "test", cell.Meeting{CellID: cellID, Kind: cell.KindRegular, Start: queueT0})
	if err != nil {
		t.Fatal(err)
	}
	must(s.SetAnswer(ctx, cellID, m.ID, memberID, cell.Answer{MemberID: memberID, Kind: cell.Coming, At: queueT0}))
	code, _, err := s.OpenCheckin(ctx, cellID, m.ID, "1234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckIn(ctx, cellID, cell.Presence{MemberID: memberID, Mark: cell.PresentByCode, At: queueT0}, code); err != nil {
		t.Fatal(err)
	}
	must(s.SetOutcomes(ctx, cellID, m.ID, map[int64]cell.Outcome{memberID: cell.Outcome("present")}))

	if claimTTL <= 0 || claimTTL > time.Minute {
		t.Errorf("an update's claim has PTTL %v, want its lease", claimTTL)
	}
	expiring := []struct {
		what, key string
		max       time.Duration
	}{
		{"handled update id", k.Update("9"), 72 * time.Hour},
		{"delivery sent marker", k.QueueSent("m:0"), storage.QueueRetention},
		{"completed message", k.QueueMsg("m"), storage.QueueRetention},
		{"dialogue state", k.Dialogue(userID), 30 * time.Minute},
		{"poll lease", k.Lease(storage.LeasePoll), 4 * time.Second},
		{"rate slot", k.RateChat(1003), time.Hour},
	}
	for _, x := range expiring {
		if d := rdb.PTTL(ctx, x.key).Val(); d <= 0 || d > x.max {
			t.Errorf("%s (%s): PTTL %v, want within (0, %v]", x.what, x.key, d, x.max)
		}
	}
	kept := []struct{ what, key string }{
		{"meetings", k.Meetings(cellID)},
		{"answers", k.Answers(cellID, m.ID)},
		{"presence", k.Presence(cellID, m.ID)},
		{"outcomes", k.Outcomes(cellID, m.ID)},
	}
	for _, x := range kept {
		if d := rdb.PTTL(ctx, x.key).Val(); d != -1 {
			t.Errorf("%s (%s): PTTL %v, want kept (-1)", x.what, x.key, d)
		}
	}
}
