package report

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// allowedTags is Telegram's HTML subset this package uses.
var tagRE = regexp.MustCompile(`</?([a-zA-Z]+)[^>]*>`)

func checkHTML(t *testing.T, s string) {
	t.Helper()
	for _, m := range tagRE.FindAllStringSubmatch(s, -1) {
		switch m[1] {
		case "b", "i", "code", "pre":
		default:
			t.Errorf("tag %q outside Telegram's subset", m[0])
		}
	}
	if strings.Count(s, "<b>") != strings.Count(s, "</b>") {
		t.Errorf("unbalanced <b> in %q", s)
	}
}

func TestText(t *testing.T) {
	f := Compute(quarter(t))
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			parts := Text(lang, f)
			if len(parts) != 1 {
				t.Fatalf("%d parts, want 1", len(parts))
			}
			checkHTML(t, parts[0])
			golden(t, "report_"+lang+".golden", parts[0])
		})
	}
	vi := Text("vi", f)[0]
	for _, want := range []string{
		"03/04 định kỳ: 2/4 = 50% ⚠️\n   vắng có lý do 1 (ốm đau 1), không lý do 1\n   miễn, tạm miễn sinh hoạt mà đến dự 1, khách mời 2",
		"15/05 chuyên đề: 5/5 = 100% ✅",
		"03/06 định kỳ: 3/5 = 60% ⚠️",
		"<b>Cả kỳ</b>: 10/14 = 71%, chỉ tiêu 85%",
		"<b>Sinh hoạt chuyên đề</b>: 1 buổi (15/05 Học tập Nghị quyết Đại hội XIV)",
		"• Đặng Ngọc Ưng: 1/3, vắng có lý do 1 (lý do khác 1), <b>không lý do 1</b>",
		"• Phạm Thị Hường: không phải dự, đến dự 1",
	} {
		if !strings.Contains(vi, want) {
			t.Errorf("report lacks %q:\n%s", want, vi)
		}
	}
	if strings.Contains(vi, "Operator") {
		t.Error("the off-roster operator is in the report")
	}
}

// A cell of 74 members over a year of 16 meetings is split into messages under
// Telegram's limit, every member listed once, user text escaped.
func TestTextSplitsLongReports(t *testing.T) {
	d := largeYear(t)
	d.Roster[0].Name = "Nguyễn <Văn> & Lan " + strings.Repeat("Trường", 13) // 100 characters at most
	if n := len([]rune(d.Roster[0].Name)); n > cell.MaxNameLen {
		t.Fatalf("name of %d characters", n)
	}
	roster := d.Roster
	f := Compute(d)
	for _, lang := range []string{"vi", "en"} {
		parts := Text(lang, f)
		if len(parts) < 2 {
			t.Errorf("%s: %d part(s) for 74 members and 16 meetings; want the report split", lang, len(parts))
		}
		all := strings.Join(parts, "\n")
		for i, p := range parts {
			if n := telegramLen(p); n > MaxMessage {
				t.Errorf("%s: part %d has %d UTF-16 units, over %d", lang, i, n, MaxMessage)
			}
			checkHTML(t, p)
			if i > 0 && !strings.HasPrefix(p, "📊 <b>Chi bộ Khu phố Đồng Tâm</b>") {
				t.Errorf("%s: part %d does not repeat the heading: %.60q", lang, i, p)
			}
		}
		for _, mb := range roster[1:] {
			if strings.Count(all, "• "+mb.Name+":") != 1 {
				t.Errorf("%s: %s listed %d times", lang, mb.Name, strings.Count(all, "• "+mb.Name+":"))
			}
		}
		if !strings.Contains(all, "Nguyễn &lt;Văn&gt; &amp; Lan") || strings.Contains(all, "<Văn>") {
			t.Errorf("%s: a member's name is not escaped", lang)
		}
		if !strings.Contains(all, "Chuyên đề &lt;M&gt;") {
			t.Errorf("%s: a topical meeting's title is not escaped or missing", lang)
		}
	}
}

func TestCaptions(t *testing.T) {
	f := Compute(quarter(t))
	if got, want := Caption("vi", f), "📈 Tỷ lệ dự họp quý II/2026, Chi bộ Khu phố Đồng Tâm: 71% (chỉ tiêu 85%)"; got != want {
		t.Errorf("Caption = %q, want %q", got, want)
	}
	f.Cell = strings.Repeat("Chi bộ <Đồng Tâm> ", 80) // a name no cell has, to test the bound
	for _, c := range []string{Caption("vi", f), ExportCaption("en", f)} {
		if n := telegramLen(c); n > MaxCaption {
			t.Errorf("caption of %d UTF-16 units, over %d", n, MaxCaption)
		}
		if strings.Contains(c, "<Đồng") {
			t.Errorf("caption not escaped: %.80q", c)
		}
	}
}

func TestMemberHistory(t *testing.T) {
	d := quarter(t)
	d.Period = YearPeriod(2026, hcm)
	tests := []struct {
		name     string
		lang     string
		member   int64
		want     []string
		wantNot  []string
		goldFile string
	}{
		{"attached member vi", "vi", 6, []string{
			"03/04/2026 định kỳ: vắng không lý do (trả lời: tham dự)",
			"15/05/2026 chuyên đề: có mặt",
			"03/06/2026 định kỳ: vắng có lý do (trả lời: xin vắng, lý do khác: =1+1 trông cháu)",
			"03/07/2026 định kỳ: sắp họp",
			"có mặt 1/3 buổi phải dự, vắng có lý do 1, vắng không lý do 1",
		}, []string{"Bích Ngọc", "Đức", "20/05"}, "history_6_vi.golden"},
		{"exempt member en", "en", 4, []string{
			"03/04/2026 regular: present",
			"15/05/2026 topical: not expected",
			"present 0/0 meetings expected, excused 0, absent without reason 0, came 1.",
		}, []string{"Ưng", "Việt"}, "history_4_en.golden"},
		{"operator", "vi", 7, []string{"không có trong danh sách"}, nil, ""},
		{"stranger", "en", 42, []string{"not on this cell's roster"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MemberHistory(tt.lang, d, tt.member)
			checkHTML(t, got)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("history lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("history shows %q, someone else's or a cancelled meeting:\n%s", w, got)
				}
			}
			if tt.goldFile != "" {
				golden(t, tt.goldFile, got)
			}
		})
	}
}

// TestMeetingDates: dates carry the year, and the time only on a day with two
// meetings.
func TestMeetingDates(t *testing.T) {
	tests := []struct {
		name   string
		starts []time.Time
		want   []string
	}{
		{"one a day", []time.Time{at(3, 4, 14, 0), at(3, 5, 14, 0)}, []string{"03/04/2026", "03/05/2026"}},
		{"regular and topical on one day", []time.Time{at(3, 4, 8, 0), at(3, 4, 14, 30), at(4, 4, 8, 0)},
			[]string{"03/04/2026 08:00", "03/04/2026 14:30", "04/04/2026"}},
		{"none", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := meetingDates(tt.starts, " "); !slices.Equal(got, tt.want) {
				t.Errorf("meetingDates = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHistoryTellsTwoMeetingsOfADayApart: a topical meeting on the day of a
// regular one is listed with both times; the other days have none.
func TestHistoryTellsTwoMeetingsOfADayApart(t *testing.T) {
	d := quarter(t)
	d.Period = YearPeriod(2026, hcm)
	for _, m := range d.Meetings {
		if m.Meeting.ID == 13 {
			topical := m
			topical.Meeting.ID = 16
			topical.Meeting.Kind = cell.KindTopical
			topical.Meeting.Start = at(3, 6, 19, 30).UTC()
			d.Meetings = append(d.Meetings, topical)
			break
		}
	}
	got := MemberHistory("vi", d, 1)
	for _, w := range []string{"03/04/2026 định kỳ: có mặt", "03/06/2026 14:00 định kỳ: có mặt", "03/06/2026 19:30 chuyên đề: có mặt"} {
		if !strings.Contains(got, w) {
			t.Errorf("history lacks %q:\n%s", w, got)
		}
	}
}
