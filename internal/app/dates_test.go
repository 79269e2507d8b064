package app_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestTwoMeetingsOfADayAreToldApart: a regular and a topical meeting held on
// one day are listed by /history with the year and their times, and the
// export's workbook has their dates and times as date and time values.
func TestTwoMeetingsOfADayAreToldApart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	ck := &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	s := seedCell(t, e, []string{"Nguyễn Thị Lan", "Lê Văn Tư", "Trần Thị Bình"}, nil)
	sec := s.secretary

	sec.Send("/meeting 02/03/2027 08:00")
	e.srv.WaitUntil(func() bool { return count(sec, "Đã tạo buổi") == 1 })
	sec.Send("/meeting 02/03/2027 14:00 topical")
	e.srv.WaitUntil(func() bool { return count(sec, "Đã tạo buổi") == 2 })
	for i, at := range []time.Time{
		time.Date(2027, 3, 2, 8, 5, 0, 0, hcm),
		time.Date(2027, 3, 2, 14, 5, 0, 0, hcm),
	} {
		ck.Set(at)
		sec.Send("/close")
		e.srv.WaitUntil(func() bool { return count(sec, "Tổng kết buổi sinh hoạt") == i+1 })
	}

	tu := s.members["Lê Văn Tư"]
	tu.Send("/history")
	h := tu.WaitMessage("Sinh hoạt của đồng chí Lê Văn Tư")
	for _, want := range []string{"02/03/2027 08:00 định kỳ:", "02/03/2027 14:00 chuyên đề:"} {
		if !strings.Contains(h.Text, want) {
			t.Errorf("/history lacks %q:\n%s", want, h.Text)
		}
	}

	sec.Send("/export Q1/2027")
	var xlsx []byte
	e.srv.WaitUntil(func() bool {
		for _, m := range sec.Messages() {
			if m.DocumentFileID == "" {
				continue
			}
			if data, name, _ := e.srv.FileData(m.DocumentFileID); strings.HasSuffix(name, ".xlsx") {
				xlsx = data
				return true
			}
		}
		return false
	})
	book, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	sheet := book.GetSheetName(0)
	tests := []struct {
		cell, shown string
		raw         float64 // days since 30/12/1899, or a fraction of a day
	}{
		{"A2", "02/03/2027", 46448},
		{"B2", "08:00", 8.0 / 24},
		{"A3", "02/03/2027", 46448},
		{"B3", "14:00", 14.0 / 24},
	}
	for _, tt := range tests {
		shown, err := book.GetCellValue(sheet, tt.cell)
		if err != nil {
			t.Fatal(err)
		}
		rawText, err := book.GetCellValue(sheet, tt.cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := strconv.ParseFloat(rawText, 64)
		if shown != tt.shown || err != nil || raw < tt.raw-1e-9 || raw > tt.raw+1e-9 {
			t.Errorf("%s shows %q (raw %q), want %q (%v)", tt.cell, shown, rawText, tt.shown, tt.raw)
		}
	}
}
