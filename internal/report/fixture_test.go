package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// The quarter worked out by hand in the tests: Q2/2026 of a cell in Hồ Chí
// Minh City (UTC+7, no daylight saving) with the six members of
// testdata/roster.csv and an operator who serves it off the roster:
//
//	id name                 standing      participation
//	1  Nguyễn Văn Ấn        official      regular
//	2  Trần Thị Bích Ngọc   official      regular
//	3  Lê Hữu Đức           probationary  regular
//	4  Phạm Thị Hường       official      exempt (elderly)
//	5  Võ Quốc Việt         official      away until 10/05/2026, regular after
//	6  Đặng Ngọc Ưng        official      attached until 31/12/2026
//	7  Operator             off the roster: never counted
//
// and three closed meetings, plus one cancelled and one to come:
//
//	11 Thu 03/04/2026 14:00 regular  (07:00 UTC)
//	   expected: 1 2 3 6 (4 exempt, 5 away)                     = 4
//	   present: 1 (code), 3 (roll call); 4 came, not expected
//	   2 excused, illness; 6 answered coming, did not come: absent
//	   guests: 2
//	   rate 2/4 = 50% < 85%
//	12 Fri 15/05/2026 19:30 topical  (12:30 UTC), 5 regular again
//	   expected: 1 2 3 5 6                                      = 5
//	   present: all five; 4 not expected, not present
//	   rate 5/5 = 100% ≥ 85%
//	13 Wed 03/06/2026 14:00 regular  (07:00 UTC)
//	   expected: 1 2 3 5 6                                      = 5
//	   present: 1 2 5; 3 excused, work; 6 excused, other ("=1+1 trông cháu")
//	   rate 3/5 = 60% < 85%
//	14 Wed 20/05/2026 14:00 regular, cancelled: ignored
//	15 Fri 03/07/2026 14:00 regular, scheduled: next quarter, to come
//
// The period: expected 4+5+5 = 14, present 2+5+3 = 10, 10/14 = 71.4% → 71%.
// By member (present/expected, excused, absent without reason):
//
//	1 Ấn    3/3
//	2 Ngọc  2/3, excused 1 (illness)              M11 excused, M12 M13 present
//	3 Đức   2/3, excused 1 (work)                 M11 M12 present, M13 excused
//	4 Hường 0/0, came 1 while not expected        M11
//	5 Việt  2/2                                   M11 not expected (away)
//	6 Ưng   1/3, excused 1 (other), absent 1      M11 absent, M12 present, M13 excused

var hcm = mustLoad("Asia/Ho_Chi_Minh")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(day, month, hour, min int) time.Time {
	return time.Date(2026, time.Month(month), day, hour, min, 0, 0, hcm)
}

var testCell = cell.Cell{ID: 3, Name: "Chi bộ Khu phố Đồng Tâm", TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"}

func loadRoster(t testing.TB, file string) []cell.Member {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := cell.ParseRoster(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		ms[i].ID = int64(i + 1)
	}
	return ms
}

// quarter is the fixture above.
func quarter(t testing.TB) Data {
	t.Helper()
	roster := loadRoster(t, "roster.csv")
	roster = append(roster, cell.Member{ID: 7, Name: "Operator", UserID: 99, OffRoster: true, Role: cell.RoleCommittee})
	ans := func(id int64, k cell.AnswerKind, r cell.ReasonCategory, text string) cell.Answer {
		return cell.Answer{MemberID: id, Kind: k, Reason: r, ReasonText: text, At: at(1, 4, 8, 0)}
	}
	here := func(ids ...int64) []cell.Presence {
		var ps []cell.Presence
		for _, id := range ids {
			ps = append(ps, cell.Presence{MemberID: id, Mark: cell.PresentByCode, At: at(1, 4, 9, 0)})
		}
		return ps
	}
	meeting := func(id int64, kind cell.MeetingKind, start time.Time, state cell.MeetingState) cell.Meeting {
		return cell.Meeting{ID: id, CellID: testCell.ID, Kind: kind, Start: start.UTC(), Place: "Nhà văn hóa khu phố Đồng Tâm, 12 đường Hưng Đạo", State: state}
	}
	held := func(m cell.Meeting, answers []cell.Answer, presence []cell.Presence, guests []cell.Guest) Meeting {
		m.Guests = guests
		return Meeting{Meeting: m, Answers: answers, Summary: cell.Summarize(m.Start.In(hcm), roster, answers, presence, guests, 85)}
	}

	m11 := meeting(11, cell.KindRegular, at(3, 4, 14, 0), cell.StateClosed)
	m12 := meeting(12, cell.KindTopical, at(15, 5, 19, 30), cell.StateClosed)
	m12.Title = "Học tập Nghị quyết Đại hội XIV"
	m13 := meeting(13, cell.KindRegular, at(3, 6, 14, 0), cell.StateClosed)
	m14 := meeting(14, cell.KindRegular, at(20, 5, 14, 0), cell.StateCancelled)
	m15 := meeting(15, cell.KindRegular, at(3, 7, 14, 0), cell.StateScheduled)

	rollCall := here(1, 4)
	rollCall = append(rollCall, cell.Presence{MemberID: 3, Mark: cell.PresentByRollCall, At: at(3, 4, 14, 5)})
	return Data{
		Cell:   testCell,
		Period: QuarterPeriod(cell.Quarter{Year: 2026, Q: 2}, hcm),
		Roster: roster,
		Meetings: []Meeting{
			// out of order on purpose
			held(m13, []cell.Answer{
				ans(3, cell.Excused, cell.ReasonWork, ""),
				ans(6, cell.Excused, cell.ReasonOther, "=1+1 trông cháu"),
			}, here(1, 2, 5), nil),
			held(m11, []cell.Answer{
				ans(2, cell.Excused, cell.ReasonIllness, ""),
				ans(6, cell.Coming, "", ""),
				ans(1, cell.Coming, "", ""),
			}, rollCall, []cell.Guest{{Name: "Hoàng Văn Thụ", Title: "Phó Bí thư Tỉnh ủy"}, {Name: "Đỗ Thị Hằng", Title: "Bí thư Đảng ủy phường"}}),
			held(m12, nil, here(1, 2, 3, 5, 6), nil),
			{Meeting: m14},
			{Meeting: m15},
		},
	}
}

// largeYear is a real cell over a year: 74 members
// (testdata/roster74.csv), 12 regular meetings on the 3rd and 4 topical ones
// ten days later, each member absent from one meeting in four.
func largeYear(t testing.TB) Data {
	t.Helper()
	roster := loadRoster(t, "roster74.csv")
	d := Data{Cell: testCell, Period: YearPeriod(2026, hcm), Roster: roster}
	for i := range 16 {
		start := at(3, 1+i%12, 14, 0)
		kind := cell.KindRegular
		if i >= 12 {
			start = at(13, 3*(i-11), 14, 0)
			kind = cell.KindTopical
		}
		m := cell.Meeting{ID: int64(100 + i), Kind: kind, Start: start, State: cell.StateClosed, Title: "Chuyên đề <" + string(rune('A'+i)) + ">"}
		var presence []cell.Presence
		for j, mb := range roster {
			if (i+j)%4 != 0 {
				presence = append(presence, cell.Presence{MemberID: mb.ID, Mark: cell.PresentByCode})
			}
		}
		d.Meetings = append(d.Meetings, Meeting{Meeting: m, Summary: cell.Summarize(start, roster, nil, presence, nil, 0)})
	}
	return d
}
