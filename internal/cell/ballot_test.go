package cell

import (
	"errors"
	"testing"
	"time"
)

func TestNewBallot(t *testing.T) {
	base := Vote{Base: 45, Threshold: 23}
	at := time.Date(2026, 4, 3, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		forV, against, abstain int
		voters                 int
		err                    error
		passed                 bool
	}{
		{"passed at the threshold", 23, 10, 2, 40, nil, true},
		{"one short of the threshold", 22, 15, 3, 40, nil, false},
		{"every voter", 40, 0, 0, 40, nil, true},
		{"more than present", 30, 10, 1, 40, ErrVoteTooMany, false},
		{"negative for", -1, 0, 0, 40, ErrVoteNegative, false},
		{"negative abstain", 20, 0, -2, 40, ErrVoteNegative, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewBallot("x", tt.forV, tt.against, tt.abstain, tt.voters, base, at)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if b.Passed() != tt.passed {
				t.Errorf("passed = %v, want %v (%+v)", b.Passed(), tt.passed, b)
			}
			if b.Base != 45 || b.Threshold != 23 || b.Voters != tt.voters {
				t.Errorf("ballot %+v does not carry the base and voters", b)
			}
		})
	}
	if (Ballot{Base: 0, Threshold: 1, For: 1}).Passed() {
		t.Error("a vote with a base of 0 passed")
	}
}

func TestVoters(t *testing.T) {
	day := time.Date(2026, 4, 3, 14, 0, 0, 0, time.UTC)
	roster := []Member{
		{ID: 1, Standing: Official, Participation: Regular},
		{ID: 2, Standing: Probationary, Participation: Regular},
		{ID: 3, Standing: Official, Participation: Attached},
		{ID: 4, Standing: Official, Participation: Exempt},
		{ID: 5, Standing: Official, Participation: Regular}, // not present
		{ID: 6, Standing: Official, Participation: Regular, OffRoster: true},
		{ID: 7, Standing: Official, Participation: Regular},
	}
	pres := map[int64]Presence{
		1: {MemberID: 1, Mark: PresentByCode},
		2: {MemberID: 2, Mark: PresentByCode},
		3: {MemberID: 3, Mark: PresentByRollCall},
		4: {MemberID: 4, Mark: PresentByRollCall},
		6: {MemberID: 6, Mark: PresentByCode},
		7: {MemberID: 7, Mark: MarkedAbsent},
	}
	if got := Voters(day, roster, pres); got != 2 {
		t.Errorf("Voters = %d, want 2 (official 1 and the exempt 4 who came)", got)
	}
}

func TestSetBallot(t *testing.T) {
	var m Meeting
	tests := []struct {
		matter   string
		forV     int
		replaced bool
		count    int
	}{
		{"Nghị quyết quý II", 30, false, 1},
		{"Kết nạp đảng viên", 10, false, 2},
		{"nghi quyet QUY II", 31, true, 2},
		{"", 5, false, 3},
		{"", 6, true, 3},
	}
	for _, tt := range tests {
		if got := m.SetBallot(Ballot{Matter: tt.matter, For: tt.forV}); got != tt.replaced || len(m.Ballots) != tt.count {
			t.Errorf("SetBallot(%q) replaced %v with %d ballots, want %v with %d", tt.matter, got, len(m.Ballots), tt.replaced, tt.count)
		}
	}
	if m.Ballots[0].For != 31 || m.Ballots[0].Matter != "nghi quyet QUY II" {
		t.Errorf("the first ballot was not replaced in place: %+v", m.Ballots[0])
	}
}
