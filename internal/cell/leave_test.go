package cell

import (
	"strings"
	"testing"
	"time"
)

func TestSplitLeaveCause(t *testing.T) {
	tests := []struct {
		in    string
		name  string
		cause LeaveCause
		ok    bool
	}{
		{"Nguyễn Văn An died", "Nguyễn Văn An", LeftDied, true},
		{"Nguyễn Văn An từ trần", "Nguyễn Văn An", LeftDied, true},
		{"Nguyễn Văn An TU TRAN", "Nguyễn Văn An", LeftDied, true},
		{"Lê Thị Hoa chuyển", "Lê Thị Hoa", LeftTransfer, true},
		{"Lê Thị Hoa xóa tên", "Lê Thị Hoa", LeftRemoved, true},
		{"Lê Thị Hoa nhầm", "Lê Thị Hoa", LeftMistake, true},
		{"Lê Thị Hoa retired", "Lê Thị Hoa retired", "", false},
		{"died", "died", "", false}, // a cause needs a name before it
	}
	for _, tt := range tests {
		name, cause, ok := SplitLeaveCause(strings.Fields(tt.in))
		if got := strings.Join(name, " "); got != tt.name || cause != tt.cause || ok != tt.ok {
			t.Errorf("SplitLeaveCause(%q) = %q, %q, %v; want %q, %q, %v", tt.in, got, cause, ok, tt.name, tt.cause, tt.ok)
		}
	}
}

func TestLeftMember(t *testing.T) {
	day := func(s string) time.Time {
		d, _ := time.Parse(time.DateOnly, s)
		return d
	}
	left := Member{ID: 1, Participation: Regular, Left: "2026-03-10", LeftCause: LeftDied}
	optedOut := Member{ID: 2, Participation: Exempt, NoNotices: true}
	awayOut := Member{ID: 3, Participation: Away, Until: "2026-03-31", NoNotices: true}
	tests := []struct {
		name                  string
		m                     Member
		day                   string
		onRoster, exp, notice bool
	}{
		{"the day before leaving", left, "2026-03-09", true, true, true},
		{"the day of leaving", left, "2026-03-10", false, false, false},
		{"after leaving", left, "2026-04-01", false, false, false},
		{"exempt who opted out", optedOut, "2026-03-10", true, false, false},
		{"away who opted out, while away", awayOut, "2026-03-31", true, false, false},
		{"away who opted out, back to regular", awayOut, "2026-04-01", true, true, true},
	}
	for _, tt := range tests {
		d := day(tt.day)
		if got := tt.m.OnRoster(d); got != tt.onRoster {
			t.Errorf("%s: OnRoster = %v, want %v", tt.name, got, tt.onRoster)
		}
		if got := tt.m.Expected(d); got != tt.exp {
			t.Errorf("%s: Expected = %v, want %v", tt.name, got, tt.exp)
		}
		if got := tt.m.GetsNotices(d); got != tt.notice {
			t.Errorf("%s: GetsNotices = %v, want %v", tt.name, got, tt.notice)
		}
	}
}

func TestSummaryKeepsTheRecordOfWhoLeft(t *testing.T) {
	day, _ := time.Parse(time.DateOnly, "2026-03-10")
	roster := []Member{
		{ID: 1, Name: "A", Standing: Official, Participation: Regular},
		{ID: 2, Name: "B", Standing: Official, Participation: Regular, Left: "2026-03-01", LeftCause: LeftDied},
	}
	if s := Summarize(day, roster, nil, nil, nil, 0); s.Expected != 1 || s.Total.Official != 1 {
		t.Fatalf("a member who left before the meeting is counted: expected %d, official %d", s.Expected, s.Total.Official)
	}
	// A meeting that closed before the leave was recorded keeps them.
	kept := WithRecord(roster, map[int64]Outcome{1: OutcomePresent, 2: OutcomeAbsent})
	if s := Summarize(day, kept, nil, nil, nil, 0); s.Expected != 2 || len(s.AbsentNoReason) != 2 {
		t.Fatalf("the closed meeting lost its record: expected %d, absent %d", s.Expected, len(s.AbsentNoReason))
	}
	if roster[1].Left == "" {
		t.Fatal("WithRecord changed the roster it was given")
	}
}

func TestAttachmentEnd(t *testing.T) {
	tests := []struct {
		m    Member
		want string
		ok   bool
	}{
		{Member{Participation: Attached, Until: "2026-03-31"}, "2026-04-01", true},
		{Member{Participation: Attached}, "", false},
		{Member{Participation: Away, Until: "2026-03-31"}, "", false},
		{Member{Participation: Attached, Until: "2026-03-31", Left: "2026-04-01"}, "", false},
	}
	for _, tt := range tests {
		got, ok := tt.m.AttachmentEnd()
		if got != tt.want || ok != tt.ok {
			t.Errorf("AttachmentEnd(%+v) = %q, %v; want %q, %v", tt.m, got, ok, tt.want, tt.ok)
		}
	}
}
