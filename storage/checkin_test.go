package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/checkin"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// acceptedCodes is what a replica computes from the stored check-in and its
// own clock, as the bot does.
func acceptedCodes(t *testing.T, s *storage.Store, cellID int64, now time.Time) (storage.Checkin, []string) {
	t.Helper()
	c, err := s.CheckinState(context.Background(), cellID)
	if err != nil {
		t.Fatal(err)
	}
	sc := checkin.Secret{Key: c.Key, CellID: cellID, MeetingID: c.MeetingID}
	var codes []string
	for _, st := range checkin.AcceptedSteps(now) {
		codes = append(codes, sc.Code(st))
	}
	return c, codes
}

// TestCheckinRotatingReplicas: two replicas (two stores on their own
// connections to one Redis) derive the same codes from the key stored once,
// so each accepts the code the other's message shows; a code replaced more
// than 60 s ago, a second check-in, and a code after the end are told apart.
func TestCheckinRotatingReplicas(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	other := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	t.Cleanup(func() { _ = other.Close() })
	a, b := storage.New(rdb, prefix), storage.New(other, prefix)
	const cellID, meetingID = 5, 9
	start := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	opened := start.Add(-10 * time.Minute)
	until := start.Add(3 * time.Hour)
	c, err := a.OpenRotatingCheckin(ctx, cellID, meetingID, checkin.NewKey(), until)
	if err != nil {
		t.Fatal(err)
	}
	// Opening again (another committee member, on the other replica) keeps the key.
	again, err := b.OpenRotatingCheckin(ctx, cellID, meetingID, checkin.NewKey(), until)
	if err != nil || string(again.Key) != string(c.Key) {
		t.Fatalf("opened again: key kept %v, err %v", string(again.Key) == string(c.Key), err)
	}
	if _, err := b.OpenRotatingCheckin(ctx, cellID, meetingID+1, checkin.NewKey(), until); !errors.Is(err, storage.ErrCheckinOpen) {
		t.Fatalf("another meeting opened over this one: %v", err)
	}
	shown := checkin.Secret{Key: c.Key, CellID: cellID, MeetingID: meetingID}.Code(checkin.StepOf(opened))

	tests := []struct {
		name    string
		store   *storage.Store
		member  int64
		code    string
		at      time.Time
		want    error
		already bool
	}{
		{name: "replica A accepts the shown code", store: a, member: 1, code: shown, at: opened},
		{name: "replica B accepts the same code", store: b, member: 2, code: shown, at: opened.Add(time.Second)},
		{name: "a second check-in is one", store: b, member: 1, code: shown, at: opened.Add(2 * time.Second), already: true},
		{name: "replaced 60 s ago and more: refused", store: a, member: 3, code: shown,
			at: checkin.StepStart(checkin.StepOf(opened) + 1).Add(checkin.Grace), want: storage.ErrWrongCode},
		{name: "after the end: refused", store: b, member: 4, code: shown, at: until, want: storage.ErrCheckinEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, codes := acceptedCodes(t, tt.store, cellID, tt.at)
			if tt.want == storage.ErrWrongCode && len(codes) > 0 {
				for _, x := range codes {
					if x == tt.code {
						t.Skip("the code came round again by chance (3 in 10,000)")
					}
				}
			}
			p := cell.Presence{MemberID: tt.member, Mark: cell.PresentByCode, At: tt.at}
			id, already, err := tt.store.CheckInRotating(ctx, cellID, c, p, tt.code, codes, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("check in: %v, want %v", err, tt.want)
			}
			if err == nil && (id != meetingID || already != tt.already) {
				t.Errorf("meeting %d already %v, want %d %v", id, already, meetingID, tt.already)
			}
		})
	}
	pres, err := a.Presences(ctx, cellID, meetingID)
	if err != nil {
		t.Fatal(err)
	}
	if len(pres) != 2 || !pres[1].At.Equal(opened) {
		t.Errorf("presences %+v, want members 1 (first record kept) and 2", pres)
	}
	if ended, err := a.EndCheckin(ctx, cellID, meetingID); err != nil || !ended {
		t.Fatalf("end: %v %v", ended, err)
	}
	if ended, _ := b.EndCheckin(ctx, cellID, meetingID); ended {
		t.Error("ended twice")
	}
}
