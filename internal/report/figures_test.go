package report

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cellbot/cellbot/internal/cell"
)

func TestComputeByMeeting(t *testing.T) {
	f := Compute(quarter(t))
	r := func(kv ...any) map[cell.ReasonCategory]int {
		m := map[cell.ReasonCategory]int{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(cell.ReasonCategory)] = kv[i+1].(int)
		}
		return m
	}
	place := "Nhà văn hóa khu phố Đồng Tâm, 12 đường Hưng Đạo"
	want := []MeetingFigures{
		// 2 of 1 2 3 6 came: 2/4 = 50%; 2 excused (illness); 6 absent; 4 came unexpected; 2 guests
		{ID: 11, Start: at(3, 4, 14, 0), Kind: cell.KindRegular, Place: place, Expected: 4, Present: 2, PresentNotExpected: 1,
			Excused: 1, ByReason: r(cell.ReasonIllness, 1), Absent: 1, Guests: 2, Target: 85, Percent: 50},
		// all of 1 2 3 5 6 came: 5/5 = 100%
		{ID: 12, Start: at(15, 5, 19, 30), Kind: cell.KindTopical, Title: "Học tập Nghị quyết Đại hội XIV", Place: place,
			Expected: 5, Present: 5, ByReason: r(), Target: 85, Percent: 100, MeetsTarget: true},
		// 1 2 5 of 1 2 3 5 6 came: 3/5 = 60%; 3 excused (work), 6 excused (other)
		{ID: 13, Start: at(3, 6, 14, 0), Kind: cell.KindRegular, Place: place, Expected: 5, Present: 3,
			Excused: 2, ByReason: r(cell.ReasonWork, 1, cell.ReasonOther, 1), Target: 85, Percent: 60},
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"meetings", f.Meetings, want},
		{"topical", f.Topical, want[1:2]},
		{"expected", f.Expected, 4 + 5 + 5},
		{"present", f.Present, 2 + 5 + 3},
		{"percent", f.Percent, 71}, // 10/14 = 71.4%
		{"target", f.Target, 85},
		{"label", f.Period.Label("vi"), "quý II/2026"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, tt.got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
	for _, m := range f.Meetings {
		if m.Start.Location().String() != "Asia/Ho_Chi_Minh" {
			t.Errorf("meeting %d start %v is not in the cell's time zone", m.ID, m.Start)
		}
	}
}

func TestComputeByMember(t *testing.T) {
	f := Compute(quarter(t))
	type line struct {
		Name                                            string
		Expected, Present, NotExpected, Excused, Absent int
		ByReason                                        map[cell.ReasonCategory]int
	}
	want := []line{
		{"Nguyễn Văn Ấn", 3, 3, 0, 0, 0, nil},
		{"Trần Thị Bích Ngọc", 3, 2, 0, 1, 0, map[cell.ReasonCategory]int{cell.ReasonIllness: 1}},
		{"Lê Hữu Đức", 3, 2, 0, 1, 0, map[cell.ReasonCategory]int{cell.ReasonWork: 1}},
		{"Phạm Thị Hường", 0, 0, 1, 0, 0, nil},
		{"Võ Quốc Việt", 2, 2, 0, 0, 0, nil},
		{"Đặng Ngọc Ưng", 3, 1, 0, 1, 1, map[cell.ReasonCategory]int{cell.ReasonOther: 1}},
	}
	var got []line
	for _, m := range f.Members {
		got = append(got, line{m.Member.Name, m.Expected, m.Present, m.PresentNotExpected, m.Excused, m.Absent, m.ByReason})
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("by member (-want +got)\n%s", d)
	}
}

func TestRows(t *testing.T) {
	rows := Rows(quarter(t))
	// 3 closed meetings × 6 members on the roster; the operator has none.
	if len(rows) != 18 {
		t.Fatalf("%d rows, want 18", len(rows))
	}
	type key struct {
		meeting, member int64
	}
	got := map[key]Row{}
	for _, r := range rows {
		got[key{r.Meeting.ID, r.Member.ID}] = r
	}
	tests := []struct {
		meeting, member int64
		answer          cell.AnswerKind
		reason          cell.ReasonCategory
		text            string
		outcome         cell.Outcome
		part            cell.Participation
	}{
		{11, 1, cell.Coming, "", "", cell.OutcomePresent, cell.Regular},
		{11, 2, cell.Excused, cell.ReasonIllness, "", cell.OutcomeExcused, cell.Regular},
		{11, 4, "", "", "", cell.OutcomePresent, cell.Exempt},
		{11, 5, "", "", "", cell.OutcomeNotExpected, cell.Away},
		{11, 6, cell.Coming, "", "", cell.OutcomeAbsent, cell.Attached},
		{12, 4, "", "", "", cell.OutcomeNotExpected, cell.Exempt},
		{12, 5, "", "", "", cell.OutcomePresent, cell.Regular},
		{13, 6, cell.Excused, cell.ReasonOther, "=1+1 trông cháu", cell.OutcomeExcused, cell.Attached},
	}
	for _, tt := range tests {
		r := got[key{tt.meeting, tt.member}]
		if r.Answer != tt.answer || r.Reason != tt.reason || r.ReasonText != tt.text || r.Outcome != tt.outcome || r.Participation != tt.part {
			t.Errorf("meeting %d member %d: got %s/%s/%q/%s/%s, want %s/%s/%q/%s/%s", tt.meeting, tt.member,
				r.Answer, r.Reason, r.ReasonText, r.Outcome, r.Participation, tt.answer, tt.reason, tt.text, tt.outcome, tt.part)
		}
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].Meeting.Start.Before(rows[i-1].Meeting.Start) {
			t.Fatalf("rows not by meeting start at %d", i)
		}
	}
}

// A member who left the roster after a meeting is still reported from its
// summary, after the roster; one who joined later has no row for it.
func TestFormerAndNewMembers(t *testing.T) {
	d := quarter(t)
	left := d.Roster[0] // Ấn
	d.Roster = append(d.Roster[1:6:6], cell.Member{ID: 20, Name: "Mai Xuân Thưởng", Standing: cell.Official, Participation: cell.Regular})
	f := Compute(d)
	last := f.Members[len(f.Members)-1]
	if last.Member.Name != left.Name || last.Present != 3 || last.Expected != 3 {
		t.Errorf("former member: %+v", last)
	}
	for _, r := range Rows(d) {
		if r.Member.ID == 20 {
			t.Errorf("a member who joined after the meetings has a row: %+v", r)
		}
	}
	if f.Expected != 14 || f.Present != 10 {
		t.Errorf("meeting figures changed with the roster: %d/%d", f.Present, f.Expected)
	}
}

func TestComputeEmpty(t *testing.T) {
	d := quarter(t)
	d.Period = QuarterPeriod(cell.Quarter{Year: 2026, Q: 1}, hcm)
	f := Compute(d)
	if len(f.Meetings) != 0 || f.Percent != 0 || f.Target != 85 {
		t.Errorf("empty period: %+v", f)
	}
	if _, err := Chart("vi", f); err != ErrNoMeetings {
		t.Errorf("Chart of an empty period: %v, want ErrNoMeetings", err)
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 3, 31, 17, 30, 0, 0, time.UTC) // 01/04/2026 00:30 in Hồ Chí Minh City: Q2
	tests := []struct {
		arg     string
		year, q int
		bad     bool
	}{
		{"", 2026, 2, false},
		{"quarter", 2026, 2, false},
		{"Quý", 2026, 2, false},
		{"year", 2026, 0, false},
		{"năm", 2026, 0, false},
		{"Q1", 2026, 1, false},
		{"q4/2025", 2025, 4, false},
		{"Q3-2026", 2026, 3, false},
		{"quý 2/2026", 2026, 2, false},
		{"2025", 2025, 0, false},
		{"Q5", 0, 0, true},
		{"tháng 3", 0, 0, true},
		{"1999", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			p, err := ParsePeriod(tt.arg, now, hcm)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParsePeriod(%q) = %+v, want an error", tt.arg, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Year != tt.year || p.Quarter != tt.q {
				t.Errorf("ParsePeriod(%q) = %d Q%d, want %d Q%d", tt.arg, p.Year, p.Quarter, tt.year, tt.q)
			}
			if p.Start.Location().String() != "Asia/Ho_Chi_Minh" || p.Start.Hour() != 0 || p.Start.Day() != 1 || !p.End.After(p.Start) {
				t.Errorf("bounds %v – %v", p.Start, p.End)
			}
		})
	}
}

// TestAbsentMonths: the report's warning mark follows the Statute, which
// counts months: absences without reason on 05/01, 19/01 and 05/02 are 3
// absences in 2 months, no mark; one more on 05/03 makes 3 months, marked.
func TestAbsentMonths(t *testing.T) {
	c := cell.Cell{ID: 1, Name: "Chi bộ 1", TimeZone: "Asia/Ho_Chi_Minh"}
	roster := []cell.Member{
		{ID: 1, Name: "Có Mặt", Standing: cell.Official, Participation: cell.Regular},
		{ID: 2, Name: "Vắng Mặt", Standing: cell.Official, Participation: cell.Regular},
	}
	meeting := func(id int64, month time.Month, day int) Meeting {
		start := time.Date(2027, month, day, 14, 0, 0, 0, hcm)
		pres := []cell.Presence{{MemberID: 1, Mark: cell.PresentByCode, At: start}}
		return Meeting{
			Meeting: cell.Meeting{ID: id, Start: start, State: cell.StateClosed},
			Summary: cell.Summarize(start, roster, nil, pres, nil, 0),
		}
	}
	three := []Meeting{meeting(1, time.January, 5), meeting(2, time.January, 19), meeting(3, time.February, 5)}
	tests := []struct {
		name           string
		meetings       []Meeting
		absent, months int
		marked         bool
	}{
		{"two in January, one in February", three, 3, 2, false},
		{"and one in March", append(three, meeting(4, time.March, 5)), 4, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Compute(Data{Cell: c, Period: YearPeriod(2027, hcm), Roster: roster, Meetings: tt.meetings})
			mf := f.Members[1]
			if mf.Absent != tt.absent || mf.AbsentMonths != tt.months {
				t.Errorf("absent %d in %d months, want %d in %d", mf.Absent, mf.AbsentMonths, tt.absent, tt.months)
			}
			if got := strings.Contains(memberLine("vi", mf), "⚠️"); got != tt.marked {
				t.Errorf("marked %v, want %v: %q", got, tt.marked, memberLine("vi", mf))
			}
		})
	}
}
