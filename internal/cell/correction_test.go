package cell

import (
	"testing"
	"time"
)

// TestCorrectSummary: each correction gives the summary the outcome it names,
// leaves everyone else as they were, and the vote base follows.
func TestCorrectSummary(t *testing.T) {
	day := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	roster := []Member{
		{ID: 1, Name: "A", Standing: Official, Participation: Regular},
		{ID: 2, Name: "B", Standing: Official, Participation: Regular},
		{ID: 3, Name: "C", Standing: Official, Participation: Regular},
		{ID: 4, Name: "D", Standing: Official, Participation: Exempt},
	}
	at := day.Add(time.Minute)
	answers := []Answer{{MemberID: 2, Kind: Excused, Reason: ReasonIllness, At: day.Add(-time.Hour)}, {MemberID: 3, Kind: Coming, At: day.Add(-time.Hour)}}
	presence := []Presence{{MemberID: 1, Mark: PresentByCode, At: at}}
	later := day.Add(48 * time.Hour)
	tests := []struct {
		name     string
		c        Correction
		want     Outcome
		present  int // expected members present
		excused  int
		absent   int
		voteBase int
	}{
		{"no correction", Correction{}, "", 1, 1, 1, 2},
		{"absent to present", Correction{MemberID: 3, To: OutcomePresent, At: later}, OutcomePresent, 2, 1, 0, 2},
		{"absent to excused", Correction{MemberID: 3, To: OutcomeExcused, Reason: ReasonWork, At: later}, OutcomeExcused, 1, 2, 0, 1},
		{"excused to absent", Correction{MemberID: 2, To: OutcomeAbsent, At: later}, OutcomeAbsent, 1, 0, 2, 3},
		{"present to absent", Correction{MemberID: 1, To: OutcomeAbsent, At: later}, OutcomeAbsent, 0, 1, 2, 2},
		{"exempt came", Correction{MemberID: 4, To: OutcomePresent, At: later}, OutcomePresent, 1, 1, 1, 3},
		{"exempt excused is still not expected", Correction{MemberID: 4, To: OutcomeExcused, Reason: ReasonWork, At: later}, OutcomeNotExpected, 1, 1, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := map[int64]Correction{}
			if tt.c.MemberID != 0 {
				cs[tt.c.MemberID] = tt.c
			}
			as, ps := Correct(answers, presence, cs)
			s := Summarize(day, roster, as, ps, nil, 0)
			if tt.c.MemberID != 0 && s.Outcomes[tt.c.MemberID] != tt.want {
				t.Errorf("outcome of %d = %s, want %s", tt.c.MemberID, s.Outcomes[tt.c.MemberID], tt.want)
			}
			if s.PresentExpected() != tt.present || len(s.Excused) != tt.excused || len(s.AbsentNoReason) != tt.absent || s.Vote.Base != tt.voteBase {
				t.Errorf("present %d excused %d absent %d base %d; want %d %d %d %d",
					s.PresentExpected(), len(s.Excused), len(s.AbsentNoReason), s.Vote.Base, tt.present, tt.excused, tt.absent, tt.voteBase)
			}
		})
	}
	if len(answers) != 2 || len(presence) != 1 {
		t.Errorf("Correct changed its inputs: %v %v", answers, presence)
	}
}

func TestCorrectionValid(t *testing.T) {
	tests := []struct {
		c    Correction
		want bool
	}{
		{Correction{To: OutcomePresent}, true},
		{Correction{To: OutcomeAbsent}, true},
		{Correction{To: OutcomeExcused, Reason: ReasonFamily}, true},
		{Correction{To: OutcomeExcused}, false},
		{Correction{To: OutcomePresent, Reason: ReasonWork}, false},
		{Correction{To: "maybe"}, false},
	}
	for _, tt := range tests {
		if got := tt.c.Valid(); got != tt.want {
			t.Errorf("%+v.Valid() = %v, want %v", tt.c, got, tt.want)
		}
	}
}
