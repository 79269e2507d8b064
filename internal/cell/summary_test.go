package cell

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var ict = time.FixedZone("ICT", 7*3600)

// meetingDay is a real cell's April meeting: the afternoon of the 3rd.
var meetingDay = time.Date(2026, 4, 3, 14, 0, 0, 0, ict)

// at is a moment on the meeting day, for answers and marks.
func at(h, m int) time.Time { return time.Date(2026, 4, 3, h, m, 0, 0, ict) }

func official(id int64, name string, p Participation, until string) Member {
	return Member{ID: id, Name: name, Standing: Official, Participation: p, Until: until}
}

func probationary(id int64, name string, p Participation, until string) Member {
	return Member{ID: id, Name: name, Standing: Probationary, Participation: p, Until: until}
}

func came(ids ...int64) []Presence {
	var ps []Presence
	for _, id := range ids {
		ps = append(ps, Presence{MemberID: id, Mark: PresentByCode, At: at(13, 55)})
	}
	return ps
}

func excused(id int64, r ReasonCategory, text string) Answer {
	return Answer{MemberID: id, Kind: Excused, Reason: r, ReasonText: text, At: at(9, 0)}
}

// summaryView is what a test compares: names, not records.
type summaryView struct {
	Expected            int
	PresentOfficial     []string
	PresentProbationary []string
	PresentAttached     []string
	PresentNotExpected  []string
	Attached            []string
	Total               *Total   // compared only when the case gives it
	Excused             []string // name:reason
	Unstated            []string
	AbsentNoReason      []string
	ComingNotCame       []string
	Guests              []string
	ByReason            map[ReasonCategory]int
	PresentExpected     int
	RateAboveTarget     bool
	MeetsTarget         bool
	Vote                Vote
	Outcomes            map[string]Outcome // compared only when the case gives them
}

func view(s Summary, roster []Member, withOutcomes, withTotal bool) summaryView {
	names := func(ms []Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	v := summaryView{
		Expected:            s.Expected,
		PresentOfficial:     names(s.PresentOfficial),
		PresentProbationary: names(s.PresentProbationary),
		PresentAttached:     names(s.PresentAttached),
		PresentNotExpected:  names(s.PresentNotExpected),
		Attached:            names(s.Attached),
		Unstated:            names(s.Unstated()),
		AbsentNoReason:      names(s.AbsentNoReason),
		ComingNotCame:       names(s.ComingNotCame),
		ByReason:            s.ByReason,
		PresentExpected:     s.PresentExpected(),
		RateAboveTarget:     s.RateAboveTarget(),
		MeetsTarget:         s.MeetsTarget(),
		Vote:                s.Vote,
	}
	for _, e := range s.Excused {
		ex := e.Member.Name + ":" + string(e.Reason)
		if e.Unstated {
			ex += " (none chosen)"
		}
		v.Excused = append(v.Excused, ex)
	}
	for _, g := range s.Guests {
		v.Guests = append(v.Guests, g.Name+", "+g.Title)
	}
	if withTotal {
		v.Total = &s.Total
	}
	if withOutcomes {
		v.Outcomes = map[string]Outcome{}
		for _, m := range roster {
			if o, ok := s.Outcomes[m.ID]; ok {
				v.Outcomes[m.Name] = o
			}
		}
	}
	return v
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name     string
		day      time.Time // meetingDay when zero
		roster   []Member
		answers  []Answer
		presence []Presence
		guests   []Guest
		target   int
		want     summaryView
	}{
		{
			name: "probationary members are present but do not vote",
			roster: []Member{
				official(1, "O1", Regular, ""),
				official(2, "O2", Regular, ""),
				official(3, "O3", Regular, ""),
				probationary(4, "P1", Regular, ""),
				probationary(5, "P2", Regular, ""),
			},
			answers:  []Answer{excused(5, ReasonIllness, "")},
			presence: came(1, 2, 4),
			want: summaryView{
				Expected:            5, // all five are regular
				PresentOfficial:     []string{"O1", "O2"},
				PresentProbationary: []string{"P1"},
				Excused:             []string{"P2:illness"},
				AbsentNoReason:      []string{"O3"},
				ByReason:            map[ReasonCategory]int{ReasonIllness: 1},
				PresentExpected:     3,     // O1 O2 P1
				MeetsTarget:         false, // 3/5 = 60%: 3*100 = 300 < 85*5 = 425
				// Official: O1 O2 O3 = 3. P2's excuse is not subtracted: P2 is not in
				// the base at all. Base 3, threshold 3/2+1 = 1+1 = 2.
				Vote: Vote{Official: 3, Base: 3, Threshold: 2},
				Outcomes: map[string]Outcome{
					"O1": OutcomePresent, "O2": OutcomePresent, "O3": OutcomeAbsent,
					"P1": OutcomePresent, "P2": OutcomeExcused,
				},
			},
		},
		{
			name: "excused without choosing a reason: counted as other, shown as none chosen",
			roster: []Member{
				official(1, "O1", Regular, ""),
				official(2, "O2", Regular, ""),
				official(3, "O3", Regular, ""),
			},
			answers:  []Answer{{MemberID: 2, Kind: Excused, At: at(9, 0)}, excused(3, ReasonOther, "ốm")},
			presence: came(1),
			want: summaryView{
				Expected:        3,
				PresentOfficial: []string{"O1"},
				Excused:         []string{"O2:other (none chosen)", "O3:other"},
				Unstated:        []string{"O2"}, // listed apart, still among the excused
				ByReason:        map[ReasonCategory]int{ReasonOther: 2},
				PresentExpected: 1,
				// Official 3, less the two excused (any reason given counts, an
				// unchosen one too: they asked): base 1, threshold 1/2+1 = 1.
				Vote: Vote{Official: 3, Excused: 2, Base: 1, Threshold: 1},
				Outcomes: map[string]Outcome{
					"O1": OutcomePresent, "O2": OutcomeExcused, "O3": OutcomeExcused,
				},
			},
		},
		{
			name: "exempt members who came are listed apart, outside the rate",
			roster: []Member{
				official(1, "O1", Regular, ""),
				official(2, "O2", Regular, ""),
				official(3, "E1", Exempt, ""),
				official(4, "E2", Exempt, ""),
				probationary(5, "E3", Exempt, ""),
			},
			// E2 is not expected: asking to be excused lists nothing.
			answers:  []Answer{excused(4, ReasonFamily, "")},
			presence: came(1, 2, 3, 5),
			want: summaryView{
				Expected:           2, // O1 O2
				PresentOfficial:    []string{"O1", "O2"},
				PresentNotExpected: []string{"E1", "E3"},
				ByReason:           map[ReasonCategory]int{},
				PresentExpected:    2,
				RateAboveTarget:    true, // 2/2 = 100%: 200 > 85*2 = 170
				MeetsTarget:        true, // and nobody expected is absent without reason
				// Official: O1 O2 E1 E2 = 4; less E2, exempt and absent: 4-1 = 3.
				// E1 came and votes. Threshold 3/2+1 = 2.
				Vote: Vote{Official: 4, ExemptAbsent: 1, Base: 3, Threshold: 2},
				Outcomes: map[string]Outcome{
					"O1": OutcomePresent, "O2": OutcomePresent,
					"E1": OutcomePresent, "E2": OutcomeNotExpected, "E3": OutcomePresent,
				},
			},
		},
		{
			name: "away members whose date has passed are expected again",
			roster: []Member{
				official(1, "A1", Away, "2026-04-02"), // back since the 2nd: expected
				official(2, "A2", Away, "2026-04-03"), // away until the meeting day itself
				official(3, "A3", Away, "2026-12-31"), // away, came anyway
				official(4, "A4", Away, "2026-03-31"), // back, came
				official(5, "O1", Regular, ""),
			},
			presence: came(3, 4, 5),
			want: summaryView{
				Expected:           3, // A1 A4 O1
				PresentOfficial:    []string{"A4", "O1"},
				PresentNotExpected: []string{"A3"},
				AbsentNoReason:     []string{"A1"},
				ByReason:           map[ReasonCategory]int{},
				PresentExpected:    2,
				MeetsTarget:        false, // 2/3 = 66.7%: 200 < 85*3 = 255
				// Official 5; less away that day: A2 A3 = 2 (A3 though present):
				// 5-2 = 3 (A1 A4 O1). Threshold 3/2+1 = 2.
				Vote: Vote{Official: 5, Away: 2, Base: 3, Threshold: 2},
				Outcomes: map[string]Outcome{
					"A1": OutcomeAbsent, "A2": OutcomeNotExpected, "A3": OutcomePresent,
					"A4": OutcomePresent, "O1": OutcomePresent,
				},
			},
		},
		{
			name: "an early meeting is taken on its day in the cell's zone",
			// 06:30 on the 3rd in Hà Nội is 23:30 on the 2nd in UTC: A1, away
			// until the 2nd, is back.
			day:    time.Date(2026, 4, 3, 6, 30, 0, 0, ict),
			roster: []Member{official(1, "A1", Away, "2026-04-02")},
			want: summaryView{
				Expected:       1,
				AbsentNoReason: []string{"A1"},
				ByReason:       map[ReasonCategory]int{},
				Vote:           Vote{Official: 1, Base: 1, Threshold: 1}, // 1/2+1 = 0+1
			},
		},
		{
			// Attached members belong to their home cell's count: expected here
			// (so in the rate, and absent without reason when they do not come),
			// but listed apart, out of the total and out of the vote base.
			name: "attached members are in the rate, listed apart, outside the total and the vote base",
			roster: []Member{
				official(1, "T1", Attached, "2026-12-31"),
				probationary(2, "T2", Attached, "2026-12-31"),
				official(3, "T3", Attached, "2026-12-31"),
				official(4, "O1", Regular, ""),
				probationary(5, "P1", Regular, ""),
			},
			answers:  []Answer{excused(2, ReasonWork, "")},
			presence: came(1, 4, 5),
			want: summaryView{
				Expected:            5, // T1 T2 T3 O1 P1: attached are expected
				PresentOfficial:     []string{"O1"},
				PresentProbationary: []string{"P1"},
				PresentAttached:     []string{"T1"}, // apart from O1, though official
				Attached:            []string{"T1", "T2", "T3"},
				Total:               &Total{Official: 1, Probationary: 1}, // O1, P1; no T
				Excused:             []string{"T2:work"},
				AbsentNoReason:      []string{"T3"},
				ByReason:            map[ReasonCategory]int{ReasonWork: 1},
				PresentExpected:     3,     // O1 P1 T1
				MeetsTarget:         false, // 3/5 = 60%: 300 < 85*5 = 425; T3 absent too
				// Official of this cell: O1 = 1 (T1 and T3 are official in their
				// home cell, not here). Base 1, threshold 1/2+1 = 1.
				Vote: Vote{Official: 1, Base: 1, Threshold: 1},
				Outcomes: map[string]Outcome{
					"T1": OutcomePresent, "T2": OutcomeExcused, "T3": OutcomeAbsent,
					"O1": OutcomePresent, "P1": OutcomePresent,
				},
			},
		},
		{
			name:     "guests are listed and never counted",
			roster:   []Member{official(1, "O1", Regular, "")},
			presence: came(1),
			guests: []Guest{
				{Name: "Trần Văn Tỉnh", Title: "Phó Bí thư Tỉnh ủy"},
				{Name: "Lê Thị Phường", Title: "Bí thư Thị ủy"},
			},
			want: summaryView{
				Expected:        1,
				PresentOfficial: []string{"O1"},
				Guests:          []string{"Trần Văn Tỉnh, Phó Bí thư Tỉnh ủy", "Lê Thị Phường, Bí thư Thị ủy"},
				ByReason:        map[ReasonCategory]int{},
				PresentExpected: 1,
				RateAboveTarget: true,                                     // 1/1 = 100%
				MeetsTarget:     true,                                     // nobody absent without reason
				Vote:            Vote{Official: 1, Base: 1, Threshold: 1}, // 1/2+1 = 1
			},
		},
		{
			name: "an empty meeting: nobody answered, nobody came",
			roster: []Member{
				official(1, "O1", Regular, ""),
				official(2, "O2", Regular, ""),
				probationary(3, "P1", Regular, ""),
				official(4, "E1", Exempt, ""),
			},
			want: summaryView{
				Expected:       3, // O1 O2 P1
				AbsentNoReason: []string{"O1", "O2", "P1"},
				ByReason:       map[ReasonCategory]int{},
				MeetsTarget:    false, // 0/3
				// Official: O1 O2 E1 = 3; less E1, exempt and absent: 2. The absent
				// without reason stay in the base. Threshold 2/2+1 = 2.
				Vote: Vote{Official: 3, ExemptAbsent: 1, Base: 2, Threshold: 2},
			},
		},
		{
			name: "an empty roster",
			want: summaryView{
				ByReason:    map[ReasonCategory]int{},
				MeetsTarget: false,                       // nobody was expected
				Vote:        Vote{Base: 0, Threshold: 1}, // 0/2+1: nothing can pass
			},
		},
		{
			name: "answers against presence, and the latest answer and mark win",
			roster: []Member{
				official(1, "O1", Regular, ""),
				official(2, "O2", Regular, ""),
				official(3, "O3", Regular, ""),
				official(4, "O4", Regular, ""),
				official(5, "O5", Regular, ""),
				official(6, "O6", Regular, ""),
				official(7, "E1", Exempt, ""),
			},
			answers: []Answer{
				excused(1, ReasonIllness, ""), // then came anyway
				{MemberID: 2, Kind: Coming, At: at(8, 0)},
				{MemberID: 3, Kind: Excused, Reason: ReasonFamily, At: at(11, 0)}, // latest
				{MemberID: 3, Kind: Coming, At: at(10, 0)},
				{MemberID: 4, Kind: Unsure, At: at(8, 0)},
				{MemberID: 6, Kind: Excused, At: at(8, 0)}, // no category: other
				{MemberID: 7, Kind: Coming, At: at(8, 0)},
			},
			presence: []Presence{
				{MemberID: 1, Mark: PresentByCode, At: at(13, 50)},
				{MemberID: 4, Mark: PresentByCode, At: at(14, 5)},
				{MemberID: 4, Mark: MarkedAbsent, At: at(14, 30)}, // the roll call corrects it
				{MemberID: 5, Mark: PresentByRollCall, At: at(14, 20)},
				{MemberID: 5, Mark: MarkedAbsent, At: at(14, 0)}, // earlier, though later in the slice
			},
			want: summaryView{
				Expected:        6, // O1..O6
				PresentOfficial: []string{"O1", "O5"},
				Excused:         []string{"O3:family", "O6:other (none chosen)"},
				Unstated:        []string{"O6"},
				AbsentNoReason:  []string{"O2", "O4"},
				ComingNotCame:   []string{"O2", "E1"},
				ByReason:        map[ReasonCategory]int{ReasonFamily: 1, ReasonOther: 1},
				PresentExpected: 2,
				MeetsTarget:     false, // 2/6
				// Official 7; less E1 exempt absent (1) and O3 O6 excused (2):
				// 7-1-2 = 4. Threshold 4/2+1 = 3.
				Vote: Vote{Official: 7, ExemptAbsent: 1, Excused: 2, Base: 4, Threshold: 3},
				Outcomes: map[string]Outcome{
					"O1": OutcomePresent, "O2": OutcomeAbsent, "O3": OutcomeExcused,
					"O4": OutcomeAbsent, "O5": OutcomePresent, "O6": OutcomeExcused,
					"E1": OutcomeNotExpected,
				},
			},
		},
		{
			name: "an empty standing is official; of two answers at the same moment the later wins",
			roster: []Member{
				{ID: 1, Name: "X1", Participation: Regular}, // as storage defaults it
				official(2, "X2", Regular, ""),
			},
			answers: []Answer{
				{MemberID: 2, Kind: Coming, At: at(9, 0)},
				excused(2, ReasonWork, ""), // also 09:00, later in the slice
			},
			presence: came(1),
			want: summaryView{
				Expected:        2,
				PresentOfficial: []string{"X1"},
				Excused:         []string{"X2:work"},
				ByReason:        map[ReasonCategory]int{ReasonWork: 1},
				PresentExpected: 1,
				MeetsTarget:     false, // 1/2
				// Official X1 X2 = 2; less X2 excused: 1. Threshold 1/2+1 = 1.
				Vote: Vote{Official: 2, Excused: 1, Base: 1, Threshold: 1},
			},
		},
		{
			name: "members off the roster are never counted",
			roster: []Member{
				{ID: 1, Name: "Operator", Standing: Official, Participation: Regular, Role: RoleSecretary, OffRoster: true},
				official(2, "O1", Regular, ""),
			},
			answers:  []Answer{{MemberID: 1, Kind: Coming, At: at(8, 0)}, {MemberID: 99, Kind: Coming, At: at(8, 0)}},
			presence: came(1, 2, 99),
			want: summaryView{
				Expected:        1,
				PresentOfficial: []string{"O1"},
				ByReason:        map[ReasonCategory]int{},
				PresentExpected: 1,
				RateAboveTarget: true,
				MeetsTarget:     true,
				Vote:            Vote{Official: 1, Base: 1, Threshold: 1},
				Outcomes:        map[string]Outcome{"O1": OutcomePresent},
			},
		},
		{
			name:     "a target of 80% is not met by exactly 4 of 5: 80.0% is not above it",
			roster:   regular(5),
			answers:  []Answer{excused(5, ReasonIllness, "")},
			presence: came(1, 2, 3, 4),
			target:   80,
			want: summaryView{
				Expected:        5,
				PresentOfficial: []string{"O1", "O2", "O3", "O4"},
				Excused:         []string{"O5:illness"},
				ByReason:        map[ReasonCategory]int{ReasonIllness: 1},
				PresentExpected: 4,
				RateAboveTarget: false, // 4*100 = 400, not above 80*5 = 400
				MeetsTarget:     false, // only the rate fails: nobody absent without reason
				// Official 5, less O5 excused: 4. Threshold 4/2+1 = 3.
				Vote: Vote{Official: 5, Excused: 1, Base: 4, Threshold: 3},
			},
		},
		{
			name:     "85.0% with the default 85% target is not met",
			roster:   regular(20),
			answers:  []Answer{excused(18, ReasonWork, ""), excused(19, ReasonIllness, ""), excused(20, ReasonFamily, "")},
			presence: came(seq(1, 17)...),
			want: summaryView{
				Expected:        20,
				PresentOfficial: names("O", 1, 17),
				Excused:         []string{"O18:work", "O19:illness", "O20:family"},
				ByReason:        map[ReasonCategory]int{ReasonWork: 1, ReasonIllness: 1, ReasonFamily: 1},
				PresentExpected: 17,
				RateAboveTarget: false, // 17/20 = 85.0%: 1700, not above 85*20 = 1700
				MeetsTarget:     false, // the rate alone fails: the three gave reasons
				// Official 20, less 3 excused: 17. Threshold 17/2+1 = 8+1 = 9.
				Vote: Vote{Official: 20, Excused: 3, Base: 17, Threshold: 9},
			},
		},
		{
			name:     "above the target but one absent without reason is not met",
			roster:   regular(20),
			answers:  []Answer{excused(19, ReasonWork, "")},
			presence: came(seq(1, 18)...),
			want: summaryView{
				Expected:        20,
				PresentOfficial: names("O", 1, 18),
				Excused:         []string{"O19:work"},
				AbsentNoReason:  []string{"O20"},
				ByReason:        map[ReasonCategory]int{ReasonWork: 1},
				PresentExpected: 18,
				RateAboveTarget: true,  // 18/20 = 90%: 1800 > 1700
				MeetsTarget:     false, // O20 is absent without reason
				// Official 20, less O19 excused: 19; O20 stays in the base.
				// Threshold 19/2+1 = 9+1 = 10.
				Vote: Vote{Official: 20, Excused: 1, Base: 19, Threshold: 10},
			},
		},
		{
			name:     "above the target and nobody absent without reason is met",
			roster:   regular(20),
			answers:  []Answer{excused(19, ReasonWork, ""), {MemberID: 20, Kind: Excused, At: at(9, 0)}},
			presence: came(seq(1, 18)...),
			want: summaryView{
				Expected:        20,
				PresentOfficial: names("O", 1, 18),
				// O20 pressed "excused" and never gave a reason: counted as
				// excused (so the target holds), listed apart.
				Excused:         []string{"O19:work", "O20:other (none chosen)"},
				Unstated:        []string{"O20"},
				ByReason:        map[ReasonCategory]int{ReasonWork: 1, ReasonOther: 1},
				PresentExpected: 18,
				RateAboveTarget: true, // 1800 > 1700
				MeetsTarget:     true,
				// Official 20, less 2 excused: 18. Threshold 18/2+1 = 10.
				Vote: Vote{Official: 20, Excused: 2, Base: 18, Threshold: 10},
			},
		},
		{
			name:     "the default target of 85% is not met by 4 of 5",
			roster:   regular(5),
			presence: came(1, 2, 3, 4),
			want: summaryView{
				Expected:        5,
				PresentOfficial: []string{"O1", "O2", "O3", "O4"},
				AbsentNoReason:  []string{"O5"},
				ByReason:        map[ReasonCategory]int{},
				PresentExpected: 4,
				MeetsTarget:     false, // 400 < 85*5 = 425
				Vote:            Vote{Official: 5, Base: 5, Threshold: 3},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			day := tt.day
			if day.IsZero() {
				day = meetingDay
			}
			s := Summarize(day, tt.roster, tt.answers, tt.presence, tt.guests, tt.target)
			got := view(s, tt.roster, tt.want.Outcomes != nil, tt.want.Total != nil)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

// regular is n official regular members O1..On, ids 1..n.
func regular(n int) []Member {
	var ms []Member
	for i := int64(1); i <= int64(n); i++ {
		ms = append(ms, official(i, fmt.Sprintf("O%d", i), Regular, ""))
	}
	return ms
}

// seq is the ids from to to, both included.
func seq(from, to int64) []int64 {
	var ids []int64
	for i := from; i <= to; i++ {
		ids = append(ids, i)
	}
	return ids
}

// names is prefix+i for i from to to: "O1", "O2", ...
func names(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// TestSummarizeCell74 is a real cell: 74 members, 51 expected, 23
// exempt or away; its meeting had 43 of the 51 present, 6 excused with
// different reasons and 2 absent without reason.
//
// The split, stated here and not taken from the code:
//
//	expected (regular) 51 = 47 official + 4 probationary
//	not expected       23 = 15 exempt official + 8 away official (until 31/12/2026)
//	present 43 = 40 official + 3 probationary
//	excused  6 =  5 official + 1 probationary
//	absent   2 =  2 official
//	check: official 40+5+2 = 47, probationary 3+1+0 = 4, 43+6+2 = 51
//	also present, apart: 2 of the exempt; plus the secretary's operator, off
//	the roster, who checked in and is never counted.
func TestSummarizeCell74(t *testing.T) {
	var roster []Member
	var presence []Presence
	var answers []Answer
	id := int64(0)
	add := func(m Member, present bool) int64 {
		id++
		m.ID = id
		roster = append(roster, m)
		if present {
			presence = append(presence, came(id)...)
		}
		return id
	}
	for i := 1; i <= 40; i++ {
		add(official(0, fmt.Sprintf("Official present %02d", i), Regular, ""), true)
	}
	reasons := []Answer{
		{Reason: ReasonWork},
		{Reason: ReasonWork},
		{Reason: ReasonIllness},
		{Reason: ReasonIllness},
		{Reason: ReasonFamily},
		{Reason: ReasonOther, ReasonText: "đám cưới con"},
	}
	for i := 0; i < 5; i++ {
		mid := add(official(0, fmt.Sprintf("Official excused %d", i+1), Regular, ""), false)
		answers = append(answers, excused(mid, reasons[i].Reason, reasons[i].ReasonText))
	}
	absent1 := add(official(0, "Official absent 1", Regular, ""), false)
	answers = append(answers, Answer{MemberID: absent1, Kind: Coming, At: at(8, 0)})
	add(official(0, "Official absent 2", Regular, ""), false) // never answered
	for i := 1; i <= 3; i++ {
		add(probationary(0, fmt.Sprintf("Probationary present %d", i), Regular, ""), true)
	}
	mid := add(probationary(0, "Probationary excused", Regular, ""), false)
	answers = append(answers, excused(mid, reasons[5].Reason, reasons[5].ReasonText))
	for i := 1; i <= 15; i++ {
		add(official(0, fmt.Sprintf("Exempt %02d", i), Exempt, ""), i <= 2)
	}
	for i := 1; i <= 8; i++ {
		add(official(0, fmt.Sprintf("Away %d", i), Away, "2026-12-31"), false)
	}
	op := add(Member{Name: "Operator", Standing: Official, Participation: Regular, Role: RoleSecretary, OffRoster: true}, true)
	answers = append(answers, Answer{MemberID: op, Kind: Coming, At: at(8, 0)})
	if len(roster) != 75 { // 74 + the operator
		t.Fatalf("test roster has %d records, want 75", len(roster))
	}

	s := Summarize(meetingDay, roster, answers, presence, nil, 0)

	type counts struct {
		Expected, Official, Probationary, Apart, Excused, Absent, PresentExpected int
		ComingNotCame                                                             []string
		ByReason                                                                  map[ReasonCategory]int
		Target                                                                    int
		MeetsTarget                                                               bool
		Vote                                                                      Vote
	}
	got := counts{
		Expected: s.Expected, Official: len(s.PresentOfficial), Probationary: len(s.PresentProbationary),
		Apart: len(s.PresentNotExpected), Excused: len(s.Excused), Absent: len(s.AbsentNoReason),
		PresentExpected: s.PresentExpected(), ByReason: s.ByReason, Target: s.TargetPercent,
		MeetsTarget: s.MeetsTarget(), Vote: s.Vote,
	}
	for _, m := range s.ComingNotCame {
		got.ComingNotCame = append(got.ComingNotCame, m.Name)
	}
	want := counts{
		Expected: 51, Official: 40, Probationary: 3, Apart: 2, Excused: 6, Absent: 2,
		PresentExpected: 43, // 40 + 3
		ComingNotCame:   []string{"Official absent 1"},
		ByReason:        map[ReasonCategory]int{ReasonWork: 2, ReasonIllness: 2, ReasonFamily: 1, ReasonOther: 1},
		Target:          85,
		// 43/51 = 0.8431..., 84.3%: 43*100 = 4300 < 85*51 = 4335, short of 85%.
		MeetsTarget: false,
		// Official on the roster: 47 expected + 15 exempt + 8 away = 70.
		// Less away: 70-8 = 62. Less exempt absent, 15-2 who came = 13: 62-13 = 49.
		// Less official absent with a reason, 5: 49-5 = 44.
		// Check: 40 official present + 2 exempt present + 2 absent without reason = 44.
		// Threshold 44/2+1 = 22+1 = 23.
		Vote: Vote{Official: 70, Away: 8, ExemptAbsent: 13, Excused: 5, Base: 44, Threshold: 23},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if r := s.Rate(); r != 43.0/51.0 {
		t.Errorf("rate = %v, want 43/51", r)
	}
	if e := s.Excused[5]; e.Member.Name != "Probationary excused" || e.Reason != ReasonOther || e.Text != "đám cưới con" {
		t.Errorf("last excused = %+v", e)
	}
	if _, ok := s.Outcomes[op]; ok || len(s.Outcomes) != 74 {
		t.Errorf("outcomes for %d members, operator included: %v; want the 74 on the roster", len(s.Outcomes), ok)
	}
}

func TestThreshold(t *testing.T) {
	// More than half: floor(base/2) + 1.
	for base, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 3, 44: 23, 45: 23, 46: 24} {
		if got := Threshold(base); got != want {
			t.Errorf("Threshold(%d) = %d, want %d", base, got, want)
		}
	}
}

// monthly gives a history of meetings on the 3rd of each month from January
// 2026 at 14:00 in Hà Nội, ids 1, 2, ..., one letter per meeting: P present,
// E excused, A absent without reason, N not expected.
func monthly(outcomes string) []Attendance {
	of := map[rune]Outcome{'P': OutcomePresent, 'E': OutcomeExcused, 'A': OutcomeAbsent, 'N': OutcomeNotExpected}
	var h []Attendance
	for i, r := range outcomes {
		h = append(h, Attendance{
			MeetingID: int64(i + 1),
			Start:     time.Date(2026, time.Month(i+1), 3, 14, 0, 0, 0, ict),
			Outcome:   of[r],
		})
	}
	return h
}

func TestAbsenceAlerts(t *testing.T) {
	type alert struct {
		Kind     AlertKind
		Meetings []int64
		Months   int
	}
	// Across the new year: 03/11/2025, 03/12/2025, then an early meeting on
	// 01/01/2027 at 06:00 in Hà Nội, which is still 31/12/2026 in UTC.
	acrossYears := func(o1, o2, o3 Outcome) []Attendance {
		return []Attendance{
			{MeetingID: 1, Start: time.Date(2025, 11, 3, 14, 0, 0, 0, ict), Outcome: o1},
			{MeetingID: 2, Start: time.Date(2025, 12, 3, 14, 0, 0, 0, ict), Outcome: o2},
			{MeetingID: 3, Start: time.Date(2026, 1, 3, 14, 0, 0, 0, ict), Outcome: o3},
		}
	}
	lateInYear := []Attendance{
		{MeetingID: 1, Start: time.Date(2026, 10, 3, 14, 0, 0, 0, ict), Outcome: OutcomeAbsent},
		{MeetingID: 2, Start: time.Date(2026, 11, 3, 14, 0, 0, 0, ict), Outcome: OutcomeAbsent},
		{MeetingID: 3, Start: time.Date(2027, 1, 1, 6, 0, 0, 0, ict), Outcome: OutcomeAbsent},
	}
	// Two meetings in one month (a regular one on the 3rd and a topical one on
	// the 17th), ids in order of start, one letter per meeting as in monthly.
	twoInAMonth := func(outcomes string, days ...[2]int) []Attendance {
		of := map[rune]Outcome{'P': OutcomePresent, 'E': OutcomeExcused, 'A': OutcomeAbsent, 'N': OutcomeNotExpected}
		var h []Attendance
		for i, r := range outcomes {
			h = append(h, Attendance{
				MeetingID: int64(i + 1),
				Start:     time.Date(2026, time.Month(days[i][0]), days[i][1], 14, 0, 0, 0, ict),
				Outcome:   of[r],
			})
		}
		return h
	}
	jan3, jan17, feb3, mar3, mar17 := [2]int{1, 3}, [2]int{1, 17}, [2]int{2, 3}, [2]int{3, 3}, [2]int{3, 17}
	tests := []struct {
		name    string
		history []Attendance
		at      int64
		loc     *time.Location
		want    []alert
	}{
		{"first absence", monthly("A"), 1, ict, nil},
		// 03/01 and 17/01 are one month, January; 03/02 a second: 2 months.
		{"two absences in one month count once", twoInAMonth("AAA", jan3, jan17, feb3), 3, ict, nil},
		// January (twice), February, March: 3 months, with 4 absences behind them.
		{"a third month after a month with two", twoInAMonth("AAAA", jan3, jan17, feb3, mar3), 4, ict, []alert{{AlertAbsentInYear, []int64{1, 2, 3, 4}, 3}}},
		// January, February, March fire at 03/03; 17/03 adds no month.
		{"a second absence in the month that fired", twoInAMonth("AAAA", jan3, feb3, mar3, mar17), 4, ict, nil},
		// January, February, then the first of two in March: fires at 03/03, not 17/03.
		{"fires at the first absence of the third month", twoInAMonth("AAA", jan3, feb3, mar3), 3, ict, []alert{{AlertAbsentInYear, []int64{1, 2, 3}, 3}}},
		{"second absence", monthly("AA"), 2, ict, nil},
		{"third absence in a row", monthly("AAA"), 3, ict, []alert{{AlertAbsentInYear, []int64{1, 2, 3}, 3}}},
		{"fourth absence: sent at the third", monthly("AAAA"), 4, ict, nil},
		{"third absence, not in a row", monthly("APEPA" + "PA"), 7, ict, []alert{{AlertAbsentInYear, []int64{1, 5, 7}, 3}}},
		{"present after two absences", monthly("AAP"), 3, ict, nil},
		{"asked again later: entries after are ignored", monthly("AAAP"), 3, ict, []alert{{AlertAbsentInYear, []int64{1, 2, 3}, 3}}},
		{"absences in two years", acrossYears(OutcomeAbsent, OutcomeAbsent, OutcomeAbsent), 3, ict, nil},
		{"the year is the cell's: 01/01/2027 06:00 is 2027", lateInYear, 3, ict, nil},
		{"in UTC the same meeting is in 2026", lateInYear, 3, time.UTC, []alert{{AlertAbsentInYear, []int64{1, 2, 3}, 3}}},
		{"third excused in a row", monthly("EEE"), 3, ict, []alert{{AlertExcusedInARow, []int64{1, 2, 3}, 0}}},
		{"second excused", monthly("PEE"), 3, ict, nil},
		{"fourth excused: sent at the third", monthly("EEEE"), 4, ict, nil},
		{"a meeting not expected at does not break a run", monthly("EENE"), 4, ict, []alert{{AlertExcusedInARow, []int64{1, 2, 4}, 0}}},
		{"presence breaks a run", monthly("EEPE"), 4, ict, nil},
		{"an absence without reason breaks a run", monthly("EEAE"), 4, ict, nil},
		{"a new run fires again", monthly("EEEPEEE"), 7, ict, []alert{{AlertExcusedInARow, []int64{5, 6, 7}, 0}}},
		{"an excused run reaches into the last year", acrossYears(OutcomeExcused, OutcomeExcused, OutcomeExcused), 3, ict, []alert{{AlertExcusedInARow, []int64{1, 2, 3}, 0}}},
		{"not expected", monthly("NNN"), 3, ict, nil},
		{"a meeting not in the history", monthly("AAA"), 9, ict, nil},
		{"no history", nil, 1, ict, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []alert
			for _, a := range AbsenceAlerts(tt.history, tt.at, tt.loc) {
				g := alert{Kind: a.Kind, Months: a.Months}
				for _, m := range a.Meetings {
					g.Meetings = append(g.Meetings, m.MeetingID)
				}
				got = append(got, g)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts at meeting %d (-want +got):\n%s", tt.at, diff)
			}
		})
	}
}

// TestAbsenceAlertsOnce walks a year meeting by meeting, as /close does, and
// checks that each alert is given at one meeting only.
func TestAbsenceAlertsOnce(t *testing.T) {
	//                 J F M A M J J A S O N D
	h := monthly("AEEEAPAAEEEE")
	// absences without reason: Jan, May, Jul (3rd: fires), Aug (4th: no)
	// excused runs: Feb Mar Apr (3rd: fires); Sep Oct Nov (fires), Dec (4th: no)
	want := map[int64]AlertKind{4: AlertExcusedInARow, 7: AlertAbsentInYear, 11: AlertExcusedInARow}
	got := map[int64]AlertKind{}
	for _, a := range h {
		for _, al := range AbsenceAlerts(h, a.MeetingID, ict) {
			if _, dup := got[a.MeetingID]; dup {
				t.Errorf("two alerts at meeting %d", a.MeetingID)
			}
			got[a.MeetingID] = al.Kind
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts by meeting (-want +got):\n%s", diff)
	}
}

func TestQuarterOf(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		loc  *time.Location
		want Quarter
	}{
		{"new year", time.Date(2026, 1, 1, 0, 0, 0, 0, ict), ict, Quarter{2026, 1}},
		{"last minute of March", time.Date(2026, 3, 31, 23, 59, 0, 0, ict), ict, Quarter{2026, 1}},
		// 01/04 00:30 in Hà Nội is 31/03 17:30 in UTC.
		{"01/04 00:30 in the cell's zone", time.Date(2026, 4, 1, 0, 30, 0, 0, ict), ict, Quarter{2026, 2}},
		{"the same instant in UTC", time.Date(2026, 4, 1, 0, 30, 0, 0, ict), time.UTC, Quarter{2026, 1}},
		{"given in UTC, read in Hà Nội", time.Date(2026, 3, 31, 17, 30, 0, 0, time.UTC), ict, Quarter{2026, 2}},
		{"first of July", time.Date(2026, 7, 1, 0, 0, 0, 0, ict), ict, Quarter{2026, 3}},
		{"last minute of the year", time.Date(2026, 12, 31, 23, 59, 0, 0, ict), ict, Quarter{2026, 4}},
		{"early on 01/01/2027", time.Date(2027, 1, 1, 6, 0, 0, 0, ict), ict, Quarter{2027, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := QuarterOf(tt.t, tt.loc); got != tt.want {
				t.Errorf("QuarterOf(%s, %s) = %v, want %v", tt.t, tt.loc, got, tt.want)
			}
		})
	}
}

func TestQuarterBounds(t *testing.T) {
	tests := []struct {
		q                Quarter
		name             string
		start, end, warn time.Time
	}{
		// Warnings: 01/04 less 14 days is 18/03 (March has 31 days: 31-13 = 18);
		// 01/07 less 14 is 17/06 (June has 30: 30-13 = 17); 01/10 less 14 is
		// 17/09 (September has 30); 01/01 less 14 is 18/12.
		{Quarter{2026, 1}, "Q1/2026", time.Date(2026, 1, 1, 0, 0, 0, 0, ict), time.Date(2026, 4, 1, 0, 0, 0, 0, ict), time.Date(2026, 3, 18, 0, 0, 0, 0, ict)},
		{Quarter{2026, 2}, "Q2/2026", time.Date(2026, 4, 1, 0, 0, 0, 0, ict), time.Date(2026, 7, 1, 0, 0, 0, 0, ict), time.Date(2026, 6, 17, 0, 0, 0, 0, ict)},
		{Quarter{2026, 3}, "Q3/2026", time.Date(2026, 7, 1, 0, 0, 0, 0, ict), time.Date(2026, 10, 1, 0, 0, 0, 0, ict), time.Date(2026, 9, 17, 0, 0, 0, 0, ict)},
		{Quarter{2026, 4}, "Q4/2026", time.Date(2026, 10, 1, 0, 0, 0, 0, ict), time.Date(2027, 1, 1, 0, 0, 0, 0, ict), time.Date(2026, 12, 18, 0, 0, 0, 0, ict)},
	}
	for _, tt := range tests {
		if got := tt.q.String(); got != tt.name {
			t.Errorf("%v.String() = %q, want %q", tt.q, got, tt.name)
		}
		if got := tt.q.Start(ict); !got.Equal(tt.start) {
			t.Errorf("%s starts %s, want %s", tt.name, got, tt.start)
		}
		if got := tt.q.End(ict); !got.Equal(tt.end) {
			t.Errorf("%s ends %s, want %s", tt.name, got, tt.end)
		}
		if got := tt.q.TopicalWarnFrom(ict); !got.Equal(tt.warn) {
			t.Errorf("%s warns from %s, want %s", tt.name, got, tt.warn)
		}
	}
}

func TestTopicalMissing(t *testing.T) {
	meeting := func(kind MeetingKind, state MeetingState, start time.Time) Meeting {
		return Meeting{ID: 1, CellID: 1, Kind: kind, State: state, Start: start}
	}
	warnFrom := time.Date(2026, 6, 17, 0, 0, 0, 0, ict) // Q2/2026 ends 01/07 00:00; less 14 days
	tests := []struct {
		name     string
		now      time.Time
		meetings []Meeting
		want     bool
	}{
		{"a minute before two weeks from the end", warnFrom.Add(-time.Minute), nil, false},
		{"two weeks from the end, no meeting", warnFrom, nil, true},
		{"now given in UTC: 16/06 18:00 UTC is 17/06 01:00 in Hà Nội", time.Date(2026, 6, 16, 18, 0, 0, 0, time.UTC), nil, true},
		{"the quarter's last minute", time.Date(2026, 6, 30, 23, 59, 0, 0, ict), nil, true},
		{"a new quarter", time.Date(2026, 7, 1, 0, 0, 0, 0, ict), nil, false},
		{"regular meetings only", warnFrom, []Meeting{
			meeting(KindRegular, StateClosed, time.Date(2026, 4, 3, 14, 0, 0, 0, ict)),
			meeting(KindRegular, StateClosed, time.Date(2026, 5, 4, 14, 0, 0, 0, ict)),
		}, true},
		{"a topical meeting held in May", warnFrom, []Meeting{
			meeting(KindTopical, StateClosed, time.Date(2026, 5, 4, 19, 30, 0, 0, ict)),
		}, false},
		{"a topical meeting scheduled for the 28th", warnFrom, []Meeting{
			meeting(KindTopical, StateScheduled, time.Date(2026, 6, 28, 19, 30, 0, 0, ict)),
		}, false},
		{"a topical meeting at the quarter's first instant", warnFrom, []Meeting{
			meeting(KindTopical, StateClosed, time.Date(2026, 4, 1, 0, 0, 0, 0, ict)),
		}, false},
		{"a topical meeting on 30/06 23:00 in Hà Nội, stored in UTC", warnFrom, []Meeting{
			meeting(KindTopical, StateScheduled, time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC)),
		}, false},
		{"a cancelled topical meeting", warnFrom, []Meeting{
			meeting(KindTopical, StateCancelled, time.Date(2026, 6, 10, 14, 0, 0, 0, ict)),
		}, true},
		{"a topical meeting last quarter", warnFrom, []Meeting{
			meeting(KindTopical, StateClosed, time.Date(2026, 3, 20, 14, 0, 0, 0, ict)),
		}, true},
		// 01/07 00:30 in Hà Nội is 30/06 17:30 in UTC, but in the next quarter.
		{"a topical meeting next quarter", warnFrom, []Meeting{
			meeting(KindTopical, StateScheduled, time.Date(2026, 7, 1, 0, 30, 0, 0, ict)),
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TopicalMissing(tt.now, tt.meetings, ict); got != tt.want {
				t.Errorf("TopicalMissing(%s) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func ExampleSummarize() {
	hanoi := time.FixedZone("ICT", 7*3600)
	start := time.Date(2026, 4, 3, 14, 0, 0, 0, time.UTC).In(hanoi) // as stored, shown in the cell's zone
	roster := []Member{
		{ID: 1, Name: "Nguyễn Thị Lan", Standing: Official, Participation: Regular},
		{ID: 2, Name: "Trần Văn Bình", Standing: Official, Participation: Regular},
		{ID: 3, Name: "Lê Văn Cường", Standing: Probationary, Participation: Regular},
		{ID: 4, Name: "Phạm Văn Dũng", Standing: Official, Participation: Exempt},
	}
	answers := []Answer{{MemberID: 2, Kind: Excused, Reason: ReasonIllness, At: start.Add(-24 * time.Hour)}}
	presence := []Presence{
		{MemberID: 1, Mark: PresentByCode, At: start},
		{MemberID: 3, Mark: PresentByRollCall, At: start},
		{MemberID: 4, Mark: PresentByRollCall, At: start},
	}
	s := Summarize(start, roster, answers, presence, []Guest{{Name: "Hoàng Văn Em", Title: "Bí thư Đảng ủy phường"}}, 0)
	fmt.Printf("present %d of %d expected (%.1f%%, target %d%%, met: %v), %d more who are exempt or away\n",
		s.PresentExpected(), s.Expected, 100*s.Rate(), s.TargetPercent, s.MeetsTarget(), len(s.PresentNotExpected))
	fmt.Printf("excused %d (illness %d), absent without reason %d, guests %d\n",
		len(s.Excused), s.ByReason[ReasonIllness], len(s.AbsentNoReason), len(s.Guests))
	v := s.Vote
	fmt.Printf("vote base %d = %d official - %d away - %d exempt absent - %d excused; passes with %d\n",
		v.Base, v.Official, v.Away, v.ExemptAbsent, v.Excused, v.Threshold)
	// Output:
	// present 2 of 3 expected (66.7%, target 85%, met: false), 1 more who are exempt or away
	// excused 1 (illness 1), absent without reason 0, guests 1
	// vote base 2 = 3 official - 0 away - 0 exempt absent - 1 excused; passes with 2
}
