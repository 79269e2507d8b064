package cell

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Nguyễn Văn Đức", "nguyen van duc"},
		{"  NGUYỄN   văn  đức ", "nguyen van duc"},
		{"Lê Thị Hoà", "le thi hoa"},
		{"Lê Thị Hòa", "le thi hoa"},
		{"Trần <b>Tú</b> & Co", "tran <b>tu</b> & co"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	roster := []Member{
		{ID: 1, Name: "Nguyễn Văn An"},
		{ID: 2, Name: "Trần Văn An"},
		{ID: 3, Name: "Lê Thị Lan"},
		{ID: 4, Name: "Lan Anh"},
		{ID: 5, Name: "An"},
	}
	tests := []struct {
		query string
		want  []int64
	}{
		{"nguyen van an", []int64{1}},
		{"NGUYỄN VĂN AN", []int64{1}},
		{"an", []int64{5}},        // exact wins over partial
		{"van an", []int64{1, 2}}, // ambiguous
		{"lan", []int64{3}},       // the given name (last word); "Lan Anh" is Anh
		{"le lan", []int64{3}},    // family and given name, middle left out
		{"la", nil},               // not a whole word
		{"Phạm Văn Bình", nil},    // unknown
		{"", nil},
	}
	for _, tt := range tests {
		got := Match(roster, tt.query)
		var ids []int64
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		if len(ids) != len(tt.want) {
			t.Errorf("Match(%q) = %v, want %v", tt.query, ids, tt.want)
			continue
		}
		for i := range ids {
			if ids[i] != tt.want[i] {
				t.Errorf("Match(%q) = %v, want %v", tt.query, ids, tt.want)
			}
		}
	}
}

func TestParseRoster74(t *testing.T) {
	data, err := os.ReadFile("testdata/roster74.csv")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := ParseRoster(data)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[Participation]int{}
	for _, m := range ms {
		counts[m.Participation]++
	}
	if len(ms) != 74 || counts[Regular] != 51 || counts[Exempt]+counts[Away] != 23 {
		t.Errorf("got %d members %v, want 74 with 51 regular and 23 exempt or away", len(ms), counts)
	}
	if ms[0].Name != "Nguyễn Thị Lan" || ms[0].Standing != Official {
		t.Errorf("first line (after a BOM) = %+v", ms[0])
	}
	away := ms[len(ms)-1]
	if away.Participation != Away || away.Until != "2027-12-31" || away.Reason != "đi làm xa" {
		t.Errorf("last line = %+v", away)
	}
}

func TestParseRosterSemicolonsAndVietnamese(t *testing.T) {
	data, err := os.ReadFile("testdata/roster_semicolon.csv")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := ParseRoster(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Standing != Probationary || ms[0].Participation != Exempt || ms[1].Participation != Regular {
		t.Errorf("got %+v", ms)
	}
}

func TestParseRosterBadLines(t *testing.T) {
	const header = "name,standing,participation,until,reason\n"
	tests := []struct {
		name    string
		csv     string
		line    int
		problem LineProblem
	}{
		{"bad header", "ten,tu cach\nA,official,regular,,\n", 1, ProblemHeader},
		{"no lines", header, 2, ProblemEmpty},
		{"bad participation", header + "A B,official,regular,,\nC D,official,sometimes,,\n", 3, ProblemParticipation},
		{"bad standing", header + "A B,member,regular,,\n", 2, ProblemStanding},
		{"bad date", header + "A B,official,away,2027-12-31,\n", 2, ProblemDate},
		{"empty name", header + ",official,regular,,\n", 2, ProblemName},
		{"too many columns", header + "A,official,regular,,,x\n", 2, ProblemColumns},
		{"duplicate", header + "Lê Văn A,official,regular,,\nLÊ  VĂN A,official,exempt,,\n", 3, ProblemDuplicate},
		{"duplicate decomposed", header + "Lê Văn Từ,official,regular,,\nLe\u0302 Va\u0306n Tu\u031b\u0300,official,exempt,,\n", 3, ProblemDuplicate},
		{"duplicate with a zero-width space", header + "Lê Văn Tư,official,regular,,\nLê Văn\u200b Tư,official,exempt,,\n", 3, ProblemDuplicate},
		{"reason too long", header + "A B,official,exempt,," + strings.Repeat("x", 201) + "\n", 2, ProblemTooLong},
		{"unbalanced quote", header + "\"A,official,regular,,\n", 2, ProblemQuote},
		{"not text", header + "L\x81 V\xe3n A,official,regular,,\n", 1, ProblemEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRoster([]byte(tt.csv))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a LineError", err)
			}
			if le.Line != tt.line || le.Problem != tt.problem {
				t.Errorf("got line %d problem %d, want line %d problem %d", le.Line, le.Problem, tt.line, tt.problem)
			}
		})
	}
}

func TestQuietHours(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	at := func(h, m int) time.Time { return time.Date(2026, 4, 3, h, m, 0, 0, loc) }
	q := DefaultQuiet
	tests := []struct {
		now   time.Time
		quiet bool
		until time.Time
	}{
		{at(21, 29), false, time.Time{}},
		{at(21, 30), true, time.Date(2026, 4, 4, 6, 0, 0, 0, loc)},
		{at(23, 59), true, time.Date(2026, 4, 4, 6, 0, 0, 0, loc)},
		{at(3, 0), true, at(6, 0)},
		{at(6, 0), false, time.Time{}},
		{at(14, 0), false, time.Time{}},
	}
	for _, tt := range tests {
		until, quiet := q.Until(tt.now)
		if quiet != tt.quiet || !until.Equal(tt.until) {
			t.Errorf("Until(%s) = %s, %v; want %s, %v", tt.now.Format("15:04"), until, quiet, tt.until, tt.quiet)
		}
	}
}

func TestParseQuiet(t *testing.T) {
	const evening, noon = 21*60 + 30, 12 * 60
	tests := []struct {
		name string
		in   string
		want QuietHours
		bad  bool
	}{
		{"hyphen", "21:30-06:00", DefaultQuiet, false},
		{"en dash, as the contract writes it", "21:30–06:00", DefaultQuiet, false},
		{"em dash", "21:30—06:00", DefaultQuiet, false},
		{"spaces around the dash", "21:30 – 06:00", DefaultQuiet, false},
		{"no-break spaces around the dash", "21:30\u00a0-\u00a006:00", DefaultQuiet, false},
		{"one-digit hour", "21:30-6:00", DefaultQuiet, false},
		{"same day", "12:00-13:30", QuietHours{Start: noon, End: noon + 90}, false},
		{"midnight to the last minute", "00:00-23:59", QuietHours{Start: 0, End: 23*60 + 59}, false},
		{"equal: none", "21:30-21:30", QuietHours{Start: evening, End: evening}, false},
		{"midnight to midnight: none", "00:00-00:00", QuietHours{}, false},

		{"trailing letter", "21:30-06:00x", QuietHours{}, true},
		{"trailing dash", "21:30-06:00-", QuietHours{}, true},
		{"a third time", "21:30-06:00-07:00", QuietHours{}, true},
		{"leading junk", "x21:30-06:00", QuietHours{}, true},
		{"hour 24", "24:00-06:00", QuietHours{}, true},
		{"hour 25", "25:00-06:00", QuietHours{}, true},
		{"minute 60", "21:60-06:00", QuietHours{}, true},
		{"end minute 60", "21:30-06:60", QuietHours{}, true},
		{"signed hour", "21:30-+6:00", QuietHours{}, true},
		{"negative hour", "21:30--6:00", QuietHours{}, true},
		{"one-digit minute", "21:3-06:00", QuietHours{}, true},
		{"three-digit hour", "021:30-06:00", QuietHours{}, true},
		{"no dash", "21:30 06:00", QuietHours{}, true},
		{"two dashes", "21:30--06:00", QuietHours{}, true},
		{"no minutes", "21-06", QuietHours{}, true},
		{"empty", "", QuietHours{}, true},
		{"only a dash", "–", QuietHours{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuiet(tt.in)
			if tt.bad {
				if err == nil {
					t.Errorf("ParseQuiet(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseQuiet(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestExpectedOn(t *testing.T) {
	day := time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		m    Member
		want bool
	}{
		{Member{Participation: Regular}, true},
		{Member{Participation: Attached, Until: "2026-12-31"}, true},
		{Member{Participation: Exempt}, false},
		{Member{Participation: Away, Until: "2026-05-01"}, false},
		{Member{Participation: Away, Until: "2026-04-02"}, true},  // back since yesterday
		{Member{Participation: Away, Until: "2026-04-03"}, false}, // the until day is still away
		{Member{Participation: Regular, OffRoster: true}, false},  // an operator off the roster
	}
	for _, tt := range tests {
		if got := tt.m.Expected(day); got != tt.want {
			t.Errorf("%+v expected = %v, want %v", tt.m, got, tt.want)
		}
	}
}

func TestLoadLocation(t *testing.T) {
	for _, tc := range []struct {
		name, tz string
		wantErr  bool
	}{
		{"IANA name", "Asia/Ho_Chi_Minh", false},
		{"unknown name", "Asia/Nowhere", true},
		{"no name", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Cell{ID: 7, TimeZone: tc.tz}
			loc, err := c.LoadLocation()
			if (err != nil) != tc.wantErr {
				t.Fatalf("LoadLocation(%q) = %v, %v", tc.tz, loc, err)
			}
			if err == nil && loc.String() != tc.tz {
				t.Errorf("LoadLocation(%q) = %v", tc.tz, loc)
			}
			if err != nil && c.Location() != time.UTC {
				t.Errorf("Location(%q) = %v, want UTC", tc.tz, c.Location())
			}
		})
	}
}
