package cell

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
)

var update = flag.Bool("update", false, "rewrite the roster files in testdata")

// vnRoster is one roster as a secretary keeps it, saved three ways below.
// Namesakes differ only in accents (Tư and Từ, An and Ân), and two names are
// typed decomposed, as a "Unicode tổ hợp" keyboard sends them.
var vnRoster = []struct{ name, standing, participation, until, reason string }{
	{"Nguyễn Thị Lan", "Chính thức", "Thường xuyên", "", ""},
	{"Lê Văn Tư", "Chính thức", "Thường xuyên", "", ""},
	{"Lê Văn Từ", "Dự bị", "Thường xuyên", "", ""},
	{"Nguyễn Văn An", "Chính thức", "Miễn", "", "tuổi cao"},
	{"Nguyễn Văn Ân", "Chính thức", "Tạm miễn", "31/12/2027", "đi làm xa"},
	{norm.NFD.String("Phạm Đức Thắng"), "Chính thức", "Thường xuyên", "", ""},
	{norm.NFD.String("Vũ Thị Ngọc Ánh"), "Dự bị", "Tạm thời", "30/06/2027", "học tập"},
	{"Đỗ Thị Lý", "chính thức", "thường xuyên", "", ""},
}

// vnRosterNames is vnRoster's names as an import keeps them: NFC.
func vnRosterNames() []string {
	var out []string
	for _, m := range vnRoster {
		out = append(out, norm.NFC.String(m.name))
	}
	return out
}

// windows1258 encodes s as Excel does on a Vietnamese Windows: the vowel
// shapes (â, ơ, ư, ă) precomposed, a tone mark composed where Windows-1258 has
// the letter (á, à) and otherwise written after it as a combining character.
func windows1258(t testing.TB, s string) []byte {
	t.Helper()
	enc := charmap.Windows1258
	tone := func(r rune) bool {
		return r == 0x300 || r == 0x301 || r == 0x303 || r == 0x309 || r == 0x323
	}
	var out []byte
	put := func(s string) {
		for _, r := range s {
			b, ok := enc.EncodeRune(r)
			if !ok {
				t.Fatalf("Windows-1258 has no %q", r)
			}
			out = append(out, b)
		}
	}
	runes := []rune(norm.NFD.String(s))
	for i := 0; i < len(runes); {
		base, tones := string(runes[i]), ""
		for i++; i < len(runes) && unicodeMark(runes[i]); i++ {
			if tone(runes[i]) {
				tones += string(runes[i])
			} else {
				base += string(runes[i])
			}
		}
		base = norm.NFC.String(base)
		if c := []rune(norm.NFC.String(base + tones)); tones != "" && len(c) == 1 {
			if _, ok := enc.EncodeRune(c[0]); ok {
				base, tones = string(c), ""
			}
		}
		put(base + tones)
	}
	return out
}

func unicodeMark(r rune) bool { return r >= 0x300 && r <= 0x36F }

func vnRosterFiles(t testing.TB) (xlsx, cp1258, utf16 []byte) {
	t.Helper()
	// The workbook: a title, the header with an STT column, the columns'
	// numbers, and the until dates as date cells.
	f := excelize.NewFile()
	defer f.Close()
	sh := f.GetSheetName(0)
	set := func(cell string, v any) {
		if err := f.SetCellValue(sh, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("A1", "DANH SÁCH ĐẢNG VIÊN CHI BỘ KHU PHỐ 3")
	for i, h := range []string{"STT", "Họ và tên", "Chính thức/Dự bị", "Sinh hoạt", "Đến ngày", "Lý do"} {
		c, _ := excelize.CoordinatesToCellName(i+1, 3)
		set(c, h)
		c, _ = excelize.CoordinatesToCellName(i+1, 4)
		set(c, i+1)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range vnRoster {
		row := i + 5
		cell := func(col int) string { c, _ := excelize.CoordinatesToCellName(col, row); return c }
		set(cell(1), i+1)
		set(cell(2), m.name)
		set(cell(3), m.standing)
		set(cell(4), m.participation)
		if m.until != "" {
			d, err := ParseDate(m.until)
			if err != nil {
				t.Fatal(err)
			}
			set(cell(5), mustTime(t, d))
			if err := f.SetCellStyle(sh, cell(5), cell(5), dateStyle); err != nil {
				t.Fatal(err)
			}
		}
		set(cell(6), m.reason)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}

	// Excel's "CSV" in Windows-1258, CRLF, Vietnamese header with STT.
	var c bytes.Buffer
	c.WriteString("STT,Họ và tên,Chính thức/Dự bị,Sinh hoạt,Đến ngày,Lý do\r\n")
	for i, m := range vnRoster {
		c.WriteString(strings.Join([]string{string(rune('1' + i)), m.name, m.standing, m.participation, m.until, m.reason}, ",") + "\r\n")
	}
	cp := windows1258(t, c.String())

	// Excel's "Unicode Text": UTF-16 little-endian with a BOM, tab separated.
	var u bytes.Buffer
	u.WriteString("Họ tên\tTư cách đảng viên\tDiện sinh hoạt\tĐến ngày\tLý do\r\n")
	for _, m := range vnRoster {
		u.WriteString(strings.Join([]string{m.name, m.standing, m.participation, m.until, m.reason}, "\t") + "\r\n")
	}
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(u.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), cp, u16
}

// TestRosterFormatsReadAlike: the same roster saved as a workbook, as a
// Windows-1258 CSV and as UTF-16 text reads as the same members, names in
// NFC, namesakes kept apart. The files in testdata are these (go test -update
// writes them again).
func TestRosterFormatsReadAlike(t *testing.T) {
	xlsx, cp, u16 := vnRosterFiles(t)
	files := map[string][]byte{"roster_vn.xlsx": xlsx, "roster_vn_1258.csv": cp, "roster_vn_utf16.txt": u16}
	for name, data := range files {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if name == "roster_vn.xlsx" {
			continue // a workbook's zip differs in its timestamps
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s differs from what the test writes (err %v); run go test -update", path, err)
		}
	}
	if !bytes.Contains(cp, []byte{0xDE}) || !bytes.Contains(cp, []byte{0xEC}) {
		t.Fatal("the Windows-1258 file has no combining tilde or acute: the test would not test decomposition")
	}
	want := vnRosterNames()
	tests := []struct {
		name  string
		parse func([]byte) ([]Member, error)
	}{
		{"roster_vn.xlsx", ParseRosterXLSX},
		{"roster_vn_1258.csv", ParseRoster},
		{"roster_vn_utf16.txt", ParseRoster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.name))
			if err != nil {
				t.Fatal(err)
			}
			ms, err := tt.parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(want) {
				t.Fatalf("got %d members, want %d: %+v", len(ms), len(want), ms)
			}
			for i, m := range ms {
				if m.Name != want[i] || !norm.NFC.IsNormalString(m.Name) {
					t.Errorf("member %d = %q (%+q), want %q NFC", i, m.Name, m.Name, want[i])
				}
			}
			an, anh := ms[4], ms[6]
			if an.Participation != Away || an.Until != "2027-12-31" || an.Reason != "đi làm xa" {
				t.Errorf("Nguyễn Văn Ân = %+v", an)
			}
			if anh.Standing != Probationary || anh.Participation != Attached || anh.Until != "2027-06-30" || anh.Reason != "học tập" {
				t.Errorf("Vũ Thị Ngọc Ánh = %+v", anh)
			}
			if ms[2].Standing != Probationary || ms[3].Participation != Exempt {
				t.Errorf("Lê Văn Từ, Nguyễn Văn An = %+v, %+v", ms[2], ms[3])
			}
		})
	}
}

func mustTime(t testing.TB, iso string) any {
	t.Helper()
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRosterHeaders: the header is found by its names, in English or
// Vietnamese, any order, accents and case ignored, below a title; a row of
// names without the three needed columns is no header.
func TestRosterHeaders(t *testing.T) {
	tests := []struct {
		name, csv string
		want      Member // the first member
		problem   LineProblem
		line      int
	}{
		{"english", "name,standing,participation\nLê Văn Tư,probationary,away\n", Member{Name: "Lê Văn Tư", Standing: Probationary, Participation: Away}, 0, 0},
		{"vietnamese, no accents, upper case", "HO VA TEN;CHINH THUC/DU BI;SINH HOAT;DEN NGAY;LY DO\nLê Văn Tư;dự bị;tạm miễn;1/2/2027;ốm\n",
			Member{Name: "Lê Văn Tư", Standing: Probationary, Participation: Away, Until: "2027-02-01", Reason: "ốm"}, 0, 0},
		{"another order, STT and an unknown column", "STT,Ngày sinh,Sinh hoạt,Họ tên,Tư cách\n1,1/1/1950,miễn,Lê Văn Tư,chính thức\n",
			Member{Name: "Lê Văn Tư", Standing: Official, Participation: Exempt}, 0, 0},
		{"surname and given name apart", "Họ và tên đệm,Tên,Chính thức/Dự bị,Sinh hoạt\nLê Văn,Tư,chính thức,thường xuyên\n",
			Member{Name: "Lê Văn Tư", Standing: Official, Participation: Regular}, 0, 0},
		{"title rows above, numbers below", "CHI BỘ KHU PHỐ 3,,\nDANH SÁCH ĐẢNG VIÊN,,\n,,\nHọ và tên,Chính thức/Dự bị,Sinh hoạt\n(1),(2),(3)\nLê Văn Tư,dự bị,thường xuyên\n",
			Member{Name: "Lê Văn Tư", Standing: Probationary, Participation: Regular}, 0, 0},
		{"no standing column", "Họ và tên,Ngày sinh,Sinh hoạt\nLê Văn Tư,1/1/1950,thường xuyên\n", Member{}, ProblemHeader, 1},
		{"only a title", "DANH SÁCH ĐẢNG VIÊN\nLê Văn Tư\n", Member{}, ProblemHeader, 1},
		{"header, then nothing", "\n\nHọ tên,Tư cách,Sinh hoạt\n", Member{}, ProblemEmpty, 4},
		{"a shifted line is named", "STT,Họ và tên,Chính thức/Dự bị,Sinh hoạt\n1,Lê Văn Tư,dự bị,thường xuyên\n2,Lê, Văn Từ,dự bị,thường xuyên\n", Member{}, ProblemColumns, 3},
		{"utf-16 without a BOM", string(utf16le("name\tstanding\tparticipation\nLê Văn Tư\tofficial\tregular\n")), Member{Name: "Lê Văn Tư", Standing: Official, Participation: Regular}, 0, 0},
		{"a byte Windows-1258 lacks", "name,standing,participation\nL\x81 V\xe3n A,official,regular\n", Member{}, ProblemEncoding, 1},
		{"binary", "name,standing,participation\x00\x00\x01\nA\x00,official,regular\n", Member{}, ProblemEncoding, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := ParseRoster([]byte(tt.csv))
			if tt.line != 0 {
				var le *LineError
				if !errors.As(err, &le) || le.Problem != tt.problem || le.Line != tt.line {
					t.Fatalf("err = %v, want problem %d on line %d", err, tt.problem, tt.line)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ms[0] != tt.want {
				t.Errorf("first member = %+v, want %+v", ms[0], tt.want)
			}
		})
	}
}

func utf16le(s string) []byte {
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

// TestRosterWorkbookProblems: a workbook without a header, or a file that only
// claims to be one, is refused and names the problem.
func TestRosterWorkbookProblems(t *testing.T) {
	noHeader := excelize.NewFile()
	defer noHeader.Close()
	for i, name := range []string{"Lê Văn Tư", "Lê Văn Từ"} {
		c, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := noHeader.SetCellValue("Sheet1", c, name); err != nil {
			t.Fatal(err)
		}
	}
	nh, err := noHeader.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	badLine, _, _ := vnRosterFiles(t)
	bl, err := excelize.OpenReader(bytes.NewReader(badLine))
	if err != nil {
		t.Fatal(err)
	}
	if err := bl.SetCellValue(bl.GetSheetName(0), "D7", "nghỉ"); err != nil {
		t.Fatal(err)
	}
	blb, err := bl.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	total, err := excelize.OpenReader(bytes.NewReader(badLine))
	if err != nil {
		t.Fatal(err)
	}
	if err := total.SetCellValue(total.GetSheetName(0), "B14", "Tổng số: 8 đồng chí"); err != nil {
		t.Fatal(err)
	}
	tb, err := total.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		line    int
		problem LineProblem
	}{
		{"no header row", nh.Bytes(), 1, ProblemHeader},
		{"a total under the table", tb.Bytes(), 14, ProblemUnmarked},
		{"not a zip", []byte("PK\x03\x04 not really"), 0, ProblemWorkbook},
		{"a bad participation on row 7", blb.Bytes(), 7, ProblemParticipation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRosterXLSX(tt.data)
			var le *LineError
			if !errors.As(err, &le) || le.Problem != tt.problem || le.Line != tt.line {
				t.Fatalf("err = %v, want problem %d on line %d", err, tt.problem, tt.line)
			}
		})
	}
}
