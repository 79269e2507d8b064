package app_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"
)

// readCellTestdata reads a roster file the cell package's tests write from one
// list of names: a workbook, Excel's Windows-1258 CSV and its UTF-16 "Unicode
// Text".
func readCellTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "cell", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vnRosterNames are the names in those files, NFC: namesakes differ only in
// accents, and two are written decomposed in every file.
var vnRosterNames = []string{
	"Nguyễn Thị Lan", "Lê Văn Tư", "Lê Văn Từ", "Nguyễn Văn An", "Nguyễn Văn Ân",
	"Phạm Đức Thắng", "Vũ Thị Ngọc Ánh", "Đỗ Thị Lý",
}

// TestImportSpreadsheetFormats: the roster a secretary keeps in Excel imports
// as the workbook itself, as Excel's Windows-1258 CSV and as its UTF-16
// "Unicode Text", with Vietnamese headers; the three give the same members,
// names NFC, so that importing the second and third only updates them.
// A workbook with no header row, a file over 1 MiB, a bad row in a workbook,
// a total under its table and a file that only claims to be a workbook are
// refused with a sentence saying what to do, and change nothing.
func TestImportSpreadsheetFormats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	sec := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(sec)
	setupCell(t, e, sec, g)
	c := cellOf(t, e, g)

	files := []struct{ send, testdata string }{
		{"Danh sách đảng viên.xlsx", "roster_vn.xlsx"},
		{"danh sach.csv", "roster_vn_1258.csv"},
		{"danh sach.txt", "roster_vn_utf16.txt"},
	}
	for i, f := range files {
		sec.SendDocument(f.send, readCellTestdata(t, f.testdata), "/import")
		e.srv.WaitUntil(func() bool { return countContaining(sec.Messages(), "Đã nhập 8 đồng chí") == i+1 })
		last := sec.Messages()
		var done string
		for _, m := range last {
			if strings.Contains(m.Text, "Đã nhập 8 đồng chí") {
				done = m.Text
			}
		}
		if i > 0 && !strings.Contains(done, "(0 mới, 8 cập nhật)") {
			t.Errorf("%s made new members where the names are the same: %q", f.testdata, done)
		}
		roster := rosterByName(t, e, c.ID)
		if len(roster) != len(vnRosterNames) {
			t.Errorf("after %s the roster has %d members, want %d", f.testdata, len(roster), len(vnRosterNames))
		}
		for _, name := range vnRosterNames {
			m, ok := roster[name]
			if !ok {
				t.Errorf("after %s no member is named %q", f.testdata, name)
				continue
			}
			if !norm.NFC.IsNormalString(m.Name) {
				t.Errorf("after %s %q is kept not NFC", f.testdata, m.Name)
			}
		}
		if an := roster["Nguyễn Văn Ân"]; an.Until != "2027-12-31" || an.Reason != "đi làm xa" {
			t.Errorf("after %s Nguyễn Văn Ân = %+v", f.testdata, an)
		}
	}
	before := rosterByName(t, e, c.ID)

	noHeader := excelize.NewFile()
	for i, name := range []string{"Trần Văn Mới", "Hồ Thị Mới"} {
		if err := noHeader.SetCellValue("Sheet1", fmt.Sprintf("A%d", i+1), name); err != nil {
			t.Fatal(err)
		}
	}
	nh, err := noHeader.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	badRow, err := excelize.OpenReader(bytes.NewReader(readCellTestdata(t, "roster_vn.xlsx")))
	if err != nil {
		t.Fatal(err)
	}
	if err := badRow.SetCellValue(badRow.GetSheetName(0), "D7", "nghỉ"); err != nil {
		t.Fatal(err)
	}
	if err := badRow.SetCellValue(badRow.GetSheetName(0), "B13", "Trần Văn Mới"); err != nil {
		t.Fatal(err)
	}
	br, err := badRow.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	total, err := excelize.OpenReader(bytes.NewReader(readCellTestdata(t, "roster_vn.xlsx")))
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
		name, file string
		data       []byte
		want       []string
	}{
		{"a workbook with no header row", "danh sach.xlsx", nh.Bytes(),
			[]string{"Không thấy dòng tên cột", "Họ và tên, Chính thức/Dự bị, Sinh hoạt", "Chưa nhập ai"}},
		{"a file over 1 MiB", "danh sach.xlsx", bytes.Repeat([]byte("x"), 1<<20+1),
			[]string{"Tệp lớn quá: tệp danh sách không quá 1 MB", "/import"}},
		{"a bad row in a workbook", "danh sach.xlsx", br.Bytes(),
			[]string{"Dòng 7 của tệp: «nghỉ» không phải diện sinh hoạt", "Chưa nhập ai"}},
		{"a total under a workbook's table", "danh sach.xlsx", tb.Bytes(),
			[]string{"Dòng 14 của tệp: «Tổng số: 8 đồng chí» chưa ghi tư cách", "xin xóa đi", "Chưa nhập ai"}},
		{"a file that only claims to be a workbook", "danh sach.xlsx", []byte("PK\x03\x04 nothing"),
			[]string{"Không đọc được tệp «danh sach.xlsx» như bảng tính Excel", "Sổ làm việc Excel (.xlsx)", "CSV UTF-8", "Chưa nhập ai"}},
		{"an old Excel file", "danh sach.xls", []byte{0xd0, 0xcf, 0x11, 0xe0},
			[]string{"không phải bảng tính Excel (.xlsx), cũng không phải tệp CSV", "Sổ làm việc Excel (.xlsx)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec.SendDocument(tt.file, tt.data, "/import")
			m := sec.WaitMessage(tt.want[0])
			for _, w := range tt.want[1:] {
				if !strings.Contains(m.Text, w) {
					t.Errorf("answer lacks %q: %q", w, m.Text)
				}
			}
			if after := rosterByName(t, e, c.ID); len(after) != len(before) {
				t.Errorf("a refused import changed the roster: %d members, was %d", len(after), len(before))
			}
		})
	}
}
