package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/storage"
)

// TestCorrectOutcome: a correction of a closed meeting changes the outcome and
// keeps who, when, from and to; one of a meeting not closed, of a member the
// meeting has no outcome for, or one that changes nothing is refused and
// changes nothing.
func TestCorrectOutcome(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1003)
	start := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	open, _, err := s.CreateMeeting(ctx, "open", cell.Meeting{CellID: c.ID, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	closed, _, err := s.CreateMeeting(ctx, "closed", cell.Meeting{CellID: c.ID, Start: start.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateMeeting(ctx, c.ID, closed.ID, func(m *cell.Meeting) error { m.State = cell.StateClosed; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{open.ID, closed.ID} {
		if err := s.SetOutcomes(ctx, c.ID, id, map[int64]cell.Outcome{7: cell.OutcomeAbsent}); err != nil {
			t.Fatal(err)
		}
	}
	at := start.Add(72 * time.Hour)
	tests := []struct {
		name    string
		meeting int64
		c       cell.Correction
		err     error
		outcome cell.Outcome // stored after
		logLen  int
	}{
		{"not closed", open.ID, cell.Correction{MemberID: 7, To: cell.OutcomePresent, By: 1, At: at}, storage.ErrNotClosed, cell.OutcomeAbsent, 0},
		{"no outcome", closed.ID, cell.Correction{MemberID: 8, To: cell.OutcomePresent, By: 1, At: at}, storage.ErrNoOutcome, cell.OutcomeAbsent, 0},
		{"unchanged", closed.ID, cell.Correction{MemberID: 7, To: cell.OutcomeAbsent, By: 1, At: at}, storage.ErrUnchanged, cell.OutcomeAbsent, 0},
		{"to excused", closed.ID, cell.Correction{MemberID: 7, To: cell.OutcomeExcused, Reason: cell.ReasonIllness, By: 1, At: at}, nil, cell.OutcomeExcused, 1},
		{"same reason again", closed.ID, cell.Correction{MemberID: 7, To: cell.OutcomeExcused, Reason: cell.ReasonIllness, By: 1, At: at}, storage.ErrUnchanged, cell.OutcomeExcused, 1},
		{"another reason", closed.ID, cell.Correction{MemberID: 7, To: cell.OutcomeExcused, Reason: cell.ReasonWork, By: 2, At: at}, nil, cell.OutcomeExcused, 2},
		{"to present", closed.ID, cell.Correction{MemberID: 7, To: cell.OutcomePresent, By: 2, At: at}, nil, cell.OutcomePresent, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := s.Outcomes(ctx, c.ID, tt.meeting)
			if err != nil {
				t.Fatal(err)
			}
			from, err := s.Correct(ctx, c.ID, tt.meeting, tt.c)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Correct = %v, want %v", err, tt.err)
			}
			if err == nil && from != before[7] {
				t.Errorf("from = %s, want %s", from, before[7])
			}
			after, err := s.Outcomes(ctx, c.ID, tt.meeting)
			if err != nil {
				t.Fatal(err)
			}
			if after[7] != tt.outcome {
				t.Errorf("outcome = %s, want %s", after[7], tt.outcome)
			}
			log, err := s.CorrectionLog(ctx, c.ID, tt.meeting)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != tt.logLen {
				t.Fatalf("log has %d entries, want %d", len(log), tt.logLen)
			}
			if tt.err == nil {
				last := log[len(log)-1]
				if last.From != before[7] || last.To != tt.c.To || last.By != tt.c.By || !last.At.Equal(at) || last.MemberID != 7 {
					t.Errorf("log entry %+v", last)
				}
				cs, err := s.Corrections(ctx, c.ID, tt.meeting)
				if err != nil || cs[7].To != tt.c.To || cs[7].Reason != tt.c.Reason {
					t.Errorf("corrections = %+v, %v", cs, err)
				}
			}
		})
	}
}
