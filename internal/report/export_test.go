package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/cellbot/cellbot/internal/cell"
)

// wantDetail is the quarter's detail, worked out from the fixture's comment:
// meetings by start, members in roster order, Vietnamese words.
var wantDetail = [][]string{
	{"Ngày", "Giờ", "Loại", "Đảng viên", "Tư cách", "Sinh hoạt", "Trả lời", "Lý do", "Kết quả"},
	{"03/04/2026", "14:00", "Sinh hoạt định kỳ", "Nguyễn Văn Ấn", "chính thức", "sinh hoạt thường xuyên", "tham dự", "", "có mặt"},
	{"03/04/2026", "14:00", "Sinh hoạt định kỳ", "Trần Thị Bích Ngọc", "chính thức", "sinh hoạt thường xuyên", "xin vắng", "ốm đau", "vắng có lý do"},
	{"03/04/2026", "14:00", "Sinh hoạt định kỳ", "Lê Hữu Đức", "dự bị", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"03/04/2026", "14:00", "Sinh hoạt định kỳ", "Phạm Thị Hường", "chính thức", "miễn sinh hoạt", "chưa trả lời", "", "có mặt"},
	{"03/04/2026", "14:00", "Sinh hoạt định kỳ", "Võ Quốc Việt", "chính thức", "tạm miễn sinh hoạt", "chưa trả lời", "", "không phải dự"},
	{"03/04/2026", "14:00", "Sinh hoạt định kỳ", "Đặng Ngọc Ưng", "chính thức", "sinh hoạt tạm thời", "tham dự", "", "vắng không lý do"},
	{"15/05/2026", "19:30", "Sinh hoạt chuyên đề", "Nguyễn Văn Ấn", "chính thức", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"15/05/2026", "19:30", "Sinh hoạt chuyên đề", "Trần Thị Bích Ngọc", "chính thức", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"15/05/2026", "19:30", "Sinh hoạt chuyên đề", "Lê Hữu Đức", "dự bị", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"15/05/2026", "19:30", "Sinh hoạt chuyên đề", "Phạm Thị Hường", "chính thức", "miễn sinh hoạt", "chưa trả lời", "", "không phải dự"},
	{"15/05/2026", "19:30", "Sinh hoạt chuyên đề", "Võ Quốc Việt", "chính thức", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"15/05/2026", "19:30", "Sinh hoạt chuyên đề", "Đặng Ngọc Ưng", "chính thức", "sinh hoạt tạm thời", "chưa trả lời", "", "có mặt"},
	{"03/06/2026", "14:00", "Sinh hoạt định kỳ", "Nguyễn Văn Ấn", "chính thức", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"03/06/2026", "14:00", "Sinh hoạt định kỳ", "Trần Thị Bích Ngọc", "chính thức", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"03/06/2026", "14:00", "Sinh hoạt định kỳ", "Lê Hữu Đức", "dự bị", "sinh hoạt thường xuyên", "xin vắng", "công tác", "vắng có lý do"},
	{"03/06/2026", "14:00", "Sinh hoạt định kỳ", "Phạm Thị Hường", "chính thức", "miễn sinh hoạt", "chưa trả lời", "", "không phải dự"},
	{"03/06/2026", "14:00", "Sinh hoạt định kỳ", "Võ Quốc Việt", "chính thức", "sinh hoạt thường xuyên", "chưa trả lời", "", "có mặt"},
	{"03/06/2026", "14:00", "Sinh hoạt định kỳ", "Đặng Ngọc Ưng", "chính thức", "sinh hoạt tạm thời", "xin vắng", "lý do khác: =1+1 trông cháu", "vắng có lý do"},
}

func TestCSV(t *testing.T) {
	d := quarter(t)
	data := CSV("vi", d)
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatal("the CSV does not start with a UTF-8 byte order mark")
	}
	if len(data) > MaxDocument {
		t.Fatalf("CSV of %d bytes", len(data))
	}
	rows, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantDetail, rows); d != "" {
		t.Errorf("CSV rows (-want +got)\n%s", d)
	}
	// The same rows, from Rows: the CSV is the stored attendance.
	for i, r := range Rows(d) {
		if got := rows[i+1]; got[3] != r.Member.Name || got[0] != r.Meeting.Start.Format("02/01/2006") {
			t.Errorf("line %d is %v, Rows has %s at %s", i+2, got, r.Member.Name, r.Meeting.Start)
		}
	}
	// A name that a spreadsheet would run as a formula is defused.
	d.Roster[0].Name = `=HYPERLINK("http://x","Ấn")`
	rows, err = csv.NewReader(bytes.NewReader(CSV("vi", d)[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[1][3]; got != `'=HYPERLINK("http://x","Ấn")` {
		t.Errorf("formula-like name written as %q", got)
	}

	if !bytes.Equal(CSV("", d), CSV("vi", d)) {
		t.Error("the CSV is not Vietnamese by default")
	}
	en, err := csv.NewReader(bytes.NewReader(CSV("en", d)[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(en[0], ","); got != "Date,Time,Kind,Member,Standing,Participation,Answer,Reason,Outcome" {
		t.Errorf("English header %q", got)
	}
	if got := strings.Join(en[2][6:], ","); got != "excused,illness,excused" {
		t.Errorf("English answer, reason, outcome: %q", got)
	}
}

func TestDefuse(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"formula", "=SUM(A1)", "'=SUM(A1)"},
		{"plus", "+84 90", "'+84 90"},
		{"minus", "-1", "'-1"},
		{"at", "@x", "'@x"},
		{"tab", "\tx", "'\tx"},
		{"carriage return", "\r=1", "'\r=1"},
		{"name", "Lê Văn Tám", "Lê Văn Tám"},
		{"hyphenated name", "Lê Thị Hồng-Nhung", "Lê Thị Hồng-Nhung"},
		{"empty", "", ""},
		{"date", "03/04/2026", "03/04/2026"},
		{"formula inside a sentence", "lý do khác: =1+1 trông cháu", "lý do khác: =1+1 trông cháu"},
		{"formula after a semicolon", `Bình;=HYPERLINK("http://x","y")`, `Bình;'=HYPERLINK("http://x","y")`},
		{"several parts", "a;-b;c;@d", "a;'-b;c;'@d"},
		{"semicolon then spaces", "ốm;  =cmd|' /C calc'!A0", "ốm;'  =cmd|' /C calc'!A0"},
		{"semicolon then a quote", `x;"=1+1`, `x;'"=1+1`},
		{"starts with spaces", "  +1", "'  +1"},
		{"starts with a quote", `"=1`, `'"=1`},
		{"line break", "Tám\n=1+1", "Tám\n'=1+1"},
		{"semicolon at the end", "a;", "a;"},
		{"semicolon then a tab", "a;\t=1", "a;'\t=1"},
		{"honest semicolon", "ốm; sốt cao", "ốm; sốt cao"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defuse(tt.in); got != tt.want {
				t.Errorf("defuse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCSVHostileNames writes names and reasons built to run as formulas, and
// reads the CSV as a spreadsheet in either locale would: split at commas
// (honouring quotes), or at every ';' and line break (ignoring them). No cell
// either way starts a formula, even past leading spaces and quotes; the names
// still read back whole.
func TestCSVHostileNames(t *testing.T) {
	hostile := []string{
		`=HYPERLINK("http://x","Ấn")`,
		`Bình;=HYPERLINK("http://x","y")`,
		"Tám;-2+3;+cmd|' /C calc'!A0",
		"Ngọc; @SUM(A1)",
		`Hường;"=1+1`,
		"Việt\n=1+1",
		"Ưng\r\n@x",
		"Đức,;=1",
		"\t=1",
		"  -1",
	}
	unsafe := func(cell string) bool {
		cell = strings.TrimLeft(cell, ` "`)
		return cell != "" && strings.ContainsRune(formulaStarts, rune(cell[0]))
	}
	// The fixture's members take the hostile names a few at a time.
	for first := 0; first < len(hostile); {
		d := quarter(t)
		var given []string
		for i := range d.Roster {
			if d.Roster[i].OffRoster || first >= len(hostile) {
				continue
			}
			d.Roster[i].Name = hostile[first]
			given = append(given, hostile[first])
			first++
		}
		for _, m := range d.Meetings {
			for i := range m.Answers {
				m.Answers[i].ReasonText = "ốm;=1+1"
			}
			for i := range m.Summary.Excused {
				m.Summary.Excused[i].Text = "ốm;=1+1"
			}
		}
		data := CSV("vi", d)[3:]
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, c := range row {
				if unsafe(c) {
					t.Errorf("comma-separated cell %q starts a formula", c)
				}
			}
		}
		for part := range strings.FieldsFuncSeq(string(data), func(r rune) bool { return r == ';' || r == '\n' }) {
			if unsafe(part) {
				t.Errorf("semicolon-separated cell %q starts a formula", part)
			}
		}
		if !bytes.Contains(data, []byte("ốm;'=1+1")) {
			t.Error("no hostile reason in the CSV: the fixture changed")
		}
		names := map[string]bool{}
		for _, row := range rows[1:] {
			names[strings.ReplaceAll(row[3], "'", "")] = true
		}
		for _, name := range given {
			// The writer's CRLF lines drop a bare CR.
			if want := strings.NewReplacer("'", "", "\r", "").Replace(name); !names[want] {
				t.Errorf("name %q is not in the CSV, apostrophes aside", name)
			}
		}
	}
}

func TestXLSX(t *testing.T) {
	d := quarter(t)
	data, err := XLSX("vi", d)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > MaxDocument {
		t.Fatalf("workbook of %d bytes", len(data))
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{"Theo buổi họp", "Theo đảng viên", "Chi tiết"}; !cmp.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}

	tests := []struct {
		sheet string
		want  [][]string
	}{
		{"Theo buổi họp", [][]string{
			{"Ngày", "Giờ", "Loại", "Nội dung", "Địa điểm", "Phải dự", "Có mặt", "Tỷ lệ", "Chỉ tiêu", "Đạt chỉ tiêu", "Vắng có lý do", "Vắng không lý do", "Miễn, tạm miễn mà đến dự", "Khách mời"},
			{"03/04/2026", "14:00", "Sinh hoạt định kỳ", "", "Nhà văn hóa khu phố Đồng Tâm, 12 đường Hưng Đạo", "4", "2", "50%", "85%", "không đạt", "1", "1", "1", "2"},
			{"15/05/2026", "19:30", "Sinh hoạt chuyên đề", "Học tập Nghị quyết Đại hội XIV", "Nhà văn hóa khu phố Đồng Tâm, 12 đường Hưng Đạo", "5", "5", "100%", "85%", "đạt", "0", "0", "0", "0"},
			{"03/06/2026", "14:00", "Sinh hoạt định kỳ", "", "Nhà văn hóa khu phố Đồng Tâm, 12 đường Hưng Đạo", "5", "3", "60%", "85%", "không đạt", "2", "0", "0", "0"},
		}},
		{"Theo đảng viên", [][]string{
			{"Đảng viên", "Tư cách", "Sinh hoạt", "Số buổi phải dự", "Có mặt", "Vắng có lý do", "Vắng có lý do: công tác", "Vắng có lý do: ốm đau", "Vắng có lý do: việc gia đình", "Vắng có lý do: lý do khác", "Vắng không lý do", "Miễn, tạm miễn mà đến dự"},
			{"Nguyễn Văn Ấn", "chính thức", "sinh hoạt thường xuyên", "3", "3", "0", "0", "0", "0", "0", "0", "0"},
			{"Trần Thị Bích Ngọc", "chính thức", "sinh hoạt thường xuyên", "3", "2", "1", "0", "1", "0", "0", "0", "0"},
			{"Lê Hữu Đức", "dự bị", "sinh hoạt thường xuyên", "3", "2", "1", "1", "0", "0", "0", "0", "0"},
			{"Phạm Thị Hường", "chính thức", "miễn sinh hoạt", "0", "0", "0", "0", "0", "0", "0", "0", "1"},
			{"Võ Quốc Việt", "chính thức", "tạm miễn sinh hoạt", "2", "2", "0", "0", "0", "0", "0", "0", "0"},
			{"Đặng Ngọc Ưng", "chính thức", "sinh hoạt tạm thời", "3", "1", "1", "0", "0", "0", "1", "1", "0"},
		}},
		{"Chi tiết", wantDetail},
	}
	for _, tt := range tests {
		t.Run(tt.sheet, func(t *testing.T) {
			rows, err := f.GetRows(tt.sheet)
			if err != nil {
				t.Fatal(err)
			}
			// GetRows drops trailing empty cells; pad to compare.
			for i := range rows {
				for len(rows[i]) < len(tt.want[0]) {
					rows[i] = append(rows[i], "")
				}
			}
			if d := cmp.Diff(tt.want, rows); d != "" {
				t.Errorf("rows (-want +got)\n%s", d)
			}
			panes, err := f.GetPanes(tt.sheet)
			if err != nil {
				t.Fatal(err)
			}
			if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
				t.Errorf("header row not frozen: %+v", panes)
			}
			// Every column is at least as wide as its longest text.
			for j := range tt.want[0] {
				col, _ := excelize.ColumnNumberToName(j + 1)
				w, err := f.GetColWidth(tt.sheet, col)
				if err != nil {
					t.Fatal(err)
				}
				longest := 0
				for _, row := range tt.want {
					longest = max(longest, len([]rune(row[j])))
				}
				if w < float64(min(longest, maxColWidth)) {
					t.Errorf("column %s is %.0f wide, its longest text %d", col, w, longest)
				}
			}
		})
	}
	// Rates are numbers, shown as percentages.
	v, err := f.GetCellValue("Theo buổi họp", "H2", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := strconv.ParseFloat(v, 64); err != nil || r != 0.5 {
		t.Errorf("raw rate %q, want 0.5", v)
	}
	// A formula-looking reason stays text in a workbook.
	if formula, _ := f.GetCellFormula("Chi tiết", "H19"); formula != "" {
		t.Errorf("a reason became the formula %q", formula)
	}
}

// A large cell's year stays far under Telegram's 50 MB for documents.
func TestExportsOfALargeCell(t *testing.T) {
	d := largeYear(t)
	c := CSV("vi", d)
	x, err := XLSX("vi", d)
	if err != nil {
		t.Fatal(err)
	}
	if rows := bytes.Count(c, []byte("\n")); rows != 1+16*74 {
		t.Errorf("CSV of %d lines, want %d", rows, 1+16*74)
	}
	for name, n := range map[string]int{"csv": len(c), "xlsx": len(x)} {
		if n > MaxDocument {
			t.Errorf("%s of %d bytes, over %d", name, n, MaxDocument)
		}
	}
	t.Logf("CSV %d bytes, XLSX %d bytes", len(c), len(x))
}

func TestFileName(t *testing.T) {
	f := Compute(quarter(t))
	if got, want := FileName(f, ".xlsx"), "chuyen-can_chi-bo-khu-pho-dong-tam_Q2-2026.xlsx"; got != want {
		t.Errorf("FileName = %q, want %q", got, want)
	}
	f.Period = YearPeriod(2026, hcm)
	f.Cell = "<<>>"
	if got, want := FileName(f, ".csv"), "chuyen-can_cellbot_2026.csv"; got != want {
		t.Errorf("FileName = %q, want %q", got, want)
	}
}

// A period without closed meetings still gives a CSV and a workbook, with
// their headers and the roster.
func TestExportsOfAnEmptyPeriod(t *testing.T) {
	d := quarter(t)
	d.Period = QuarterPeriod(cell.Quarter{Year: 2026, Q: 1}, hcm)
	rows, err := csv.NewReader(bytes.NewReader(CSV("vi", d)[3:])).ReadAll()
	if err != nil || len(rows) != 1 {
		t.Errorf("CSV of an empty period: %d rows, %v", len(rows), err)
	}
	data, err := XLSX("vi", d)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sheet, want := range map[string]int{"Theo buổi họp": 1, "Theo đảng viên": 7, "Chi tiết": 1} {
		rows, err := f.GetRows(sheet)
		if err != nil || len(rows) != want {
			t.Errorf("sheet %s: %d rows, want %d (%v)", sheet, len(rows), want, err)
		}
	}
}

// TestXLSXDatesAreDates: the date and time columns of the meetings and detail
// sheets are numbers a spreadsheet sorts and filters as dates and times,
// shown dd/mm/yyyy and hh:mm whatever the reader's regional settings.
func TestXLSXDatesAreDates(t *testing.T) {
	data, err := XLSX("vi", quarter(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		sheet, cell string
		want        time.Time // the value as a wall clock; its date or its time counts
		format      string
	}{
		{"Theo buổi họp", "A2", time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC), "dd/mm/yyyy"},
		{"Theo buổi họp", "B2", time.Date(1899, 12, 30, 14, 0, 0, 0, time.UTC), "hh:mm"},
		{"Theo buổi họp", "A3", time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC), "dd/mm/yyyy"},
		{"Theo buổi họp", "B3", time.Date(1899, 12, 30, 19, 30, 0, 0, time.UTC), "hh:mm"},
		{"Chi tiết", "A2", time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC), "dd/mm/yyyy"},
		{"Chi tiết", "B2", time.Date(1899, 12, 30, 14, 0, 0, 0, time.UTC), "hh:mm"},
	}
	for _, tt := range tests {
		t.Run(tt.sheet+"!"+tt.cell, func(t *testing.T) {
			typ, err := f.GetCellType(tt.sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("cell type %v, want a number", typ)
			}
			raw, err := f.GetCellValue(tt.sheet, tt.cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				t.Fatalf("raw value %q is no number", raw)
			}
			got, err := excelize.ExcelDateToTime(v, false)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("value %v (%s), want %v", got, raw, tt.want)
			}
			id, err := f.GetCellStyle(tt.sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			st, err := f.GetStyle(id)
			if err != nil {
				t.Fatal(err)
			}
			if st.CustomNumFmt == nil || *st.CustomNumFmt != tt.format {
				t.Errorf("number format %v, want %q", st.CustomNumFmt, tt.format)
			}
		})
	}
}

// TestXLSXDatesInOpenpyxl: a reader other than the library that wrote the
// workbook takes the date and time columns as dates and times. It needs
// python3 with openpyxl (Debian: python3-openpyxl) and is skipped without.
func TestXLSXDatesInOpenpyxl(t *testing.T) {
	// The Debian package goes to the system's python3, which a python3
	// earlier on PATH (pyenv, a virtualenv) may not see.
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import openpyxl").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("python3 with openpyxl is not installed")
	}
	data, err := XLSX("vi", quarter(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.xlsx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const script = `
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
for sheet in ("Theo buổi họp", "Chi tiết"):
    ws = wb[sheet]
    for row in ws.iter_rows(min_row=2, max_col=2):
        d, t = row
        print(sheet, d.is_date, type(d.value).__name__, d.value.isoformat(), d.number_format,
              t.is_date, type(t.value).__name__, t.value.isoformat(), t.number_format, sep="|")
`
	out, err := exec.Command(python, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := map[string]bool{
		"Theo buổi họp|True|datetime|2026-04-03T00:00:00|dd/mm/yyyy|True|time|14:00:00|hh:mm": true,
		"Theo buổi họp|True|datetime|2026-05-15T00:00:00|dd/mm/yyyy|True|time|19:30:00|hh:mm": true,
		"Theo buổi họp|True|datetime|2026-06-03T00:00:00|dd/mm/yyyy|True|time|14:00:00|hh:mm": true,
	}
	seen := map[string]bool{}
	details := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "Chi tiết|") {
			details++
			if !strings.HasPrefix(l, "Chi tiết|True|datetime|2026-") || !strings.Contains(l, "|dd/mm/yyyy|True|time|") || !strings.HasSuffix(l, "|hh:mm") {
				t.Errorf("detail row read as %q", l)
			}
			continue
		}
		if !want[l] {
			t.Errorf("meeting row read as %q", l)
		}
		seen[l] = true
	}
	if len(seen) != len(want) || details != len(wantDetail)-1 {
		t.Errorf("openpyxl read %d of %d meetings and %d detail rows, want %d:\n%s", len(seen), len(want), details, len(wantDetail)-1, out)
	}
}
