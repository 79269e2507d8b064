package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/storage"
)

// TestLeaveAndComeBack: leaving ends the link at once (not before a later
// day), leaving twice is refused, and an import of the same name brings the
// member back as the same record, so their history stays theirs.
func TestLeaveAndComeBack(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1002)
	if _, err := s.ImportMembers(ctx, c.ID, []cell.Member{{Name: "Trần Văn Bình"}, {Name: "Lê Thị Hoa"}}); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Members(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	binh, hoa := ms[1], ms[2]
	for _, m := range []cell.Member{binh, hoa} {
		if err := s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 900 + m.ID, Name: m.Name, MemberID: m.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmJoin(ctx, c.ID, 900+m.ID); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		member   cell.Member
		day      string
		unlinked int64
	}{
		{"from today", binh, "2026-12-06", 900 + binh.ID},
		{"from a later day", hoa, "2027-01-01", 0},
	}
	for _, tt := range tests {
		l, err := s.LeaveMember(ctx, c.ID, tt.member.ID, tt.day, cell.LeftTransfer, "2026-12-06")
		if err != nil || l.Unlinked != tt.unlinked || l.Member.Left != tt.day {
			t.Errorf("%s: %+v, %v; want unlinked %d", tt.name, l, err, tt.unlinked)
		}
		if _, err := s.LeaveMember(ctx, c.ID, tt.member.ID, tt.day, cell.LeftTransfer, "2026-12-06"); !errors.Is(err, storage.ErrHasLeft) {
			t.Errorf("%s: leaving twice: %v", tt.name, err)
		}
	}
	if _, err := s.MemberByUser(ctx, c.ID, 900+binh.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the account of a member who left still finds them: %v", err)
	}
	ended, err := s.EndLinks(ctx, c.ID, "2027-01-01")
	if err != nil || len(ended) != 1 || ended[0].Unlinked != 900+hoa.ID {
		t.Errorf("EndLinks on the day = %+v, %v", ended, err)
	}
	res, err := s.ImportMembers(ctx, c.ID, []cell.Member{{Name: "Trần Văn Bình", Standing: cell.Official, Participation: cell.Regular}})
	if err != nil || res.Added != 0 || res.Updated != 1 {
		t.Fatalf("import again: %+v, %v", res, err)
	}
	back, err := s.Member(ctx, c.ID, binh.ID)
	if err != nil || back.Left != "" || back.LeftCause != "" {
		t.Errorf("imported again: %+v, %v", back, err)
	}
}
