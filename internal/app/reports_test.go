package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/xuri/excelize/v2"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestQuarterReportExportCalendar: a quarter of three meetings, held through the
// bot on a test clock, then /report, /export, /history and /calendar as the
// secretary and as a member would use them.
func TestQuarterReportExportCalendar(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	ck := &clock{t: time.Date(2027, 1, 4, 9, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	roster := []string{"Nguyễn Thị Lan", "Nguyễn Văn An", "Nguyễn Văn Ân", "Lê Văn Tư", "Trần Thị Bình"}
	s := seedCell(t, e, roster, nil)
	sec := s.secretary
	u := func(name string) *telegramtest.User { return s.members[name] }
	codeRE := regexp.MustCompile(`Mã điểm danh: (\d{4})`)

	// hold runs one meeting: created the day before, then check-in by code for
	// those present, and /close after the start.
	hold := func(day int, month time.Month, topical bool, present []string, excused map[string]string) {
		t.Helper()
		start := time.Date(2027, month, day, 14, 0, 0, 0, hcm)
		ck.Set(start.AddDate(0, 0, -1))
		cmd := fmt.Sprintf("/meeting %02d/%02d/2027 14:00", day, month)
		if topical {
			cmd += " topical"
		}
		n := count(sec, "Đã tạo buổi")
		sec.Send(cmd)
		e.srv.WaitUntil(func() bool { return count(sec, "Đã tạo buổi") == n+1 })
		for name, reason := range excused {
			want := count(u(name), "Xin đồng chí chọn lý do") + 1
			e.srv.WaitUntil(func() bool { return count(u(name), "Thông báo sinh hoạt chi bộ") >= countMeetings(month) })
			u(name).Press("❌ Xin vắng")
			e.srv.WaitUntil(func() bool { return count(u(name), "Xin đồng chí chọn lý do") >= want })
			u(name).Press(reason)
			e.srv.WaitUntil(func() bool { return count(u(name), "Trả lời của đồng chí: ❌ Xin vắng (") >= 1 })
		}
		ck.Set(start.Add(-30 * time.Minute))
		opened := count(sec, "Mã điểm danh")
		sec.Send("/checkin")
		e.srv.WaitUntil(func() bool { return count(sec, "Mã điểm danh") == opened+1 })
		msgs := sec.Messages()
		var code string
		for i := len(msgs) - 1; i >= 0 && code == ""; i-- {
			if m := codeRE.FindStringSubmatch(msgs[i].Text + msgs[i].Caption); m != nil {
				code = m[1]
			}
		}
		for _, name := range present {
			before := count(u(name), "Đã điểm danh")
			u(name).Send("/checkin " + code)
			e.srv.WaitUntil(func() bool { return count(u(name), "Đã điểm danh") == before+1 })
		}
		ck.Set(start.Add(5 * time.Minute))
		closed := count(sec, "Tổng kết buổi sinh hoạt")
		sec.Send("/close")
		e.srv.WaitUntil(func() bool { return count(sec, "Tổng kết buổi sinh hoạt") == closed+1 })
	}
	// By hand, five members all expected:
	// 05/01 regular: all five present                     5/5 = 100%
	// 02/02 regular: Ân excused (illness), Tư absent       3/5 = 60%
	// 02/03 topical: Bình absent                          4/5 = 80%
	// The quarter: 12/15 = 80%, under the 85% target.
	hold(5, time.January, false, roster, nil)
	hold(2, time.February, false, []string{"Nguyễn Thị Lan", "Nguyễn Văn An", "Trần Thị Bình"}, map[string]string{"Nguyễn Văn Ân": "🤒 Ốm đau"})
	hold(2, time.March, true, []string{"Nguyễn Thị Lan", "Nguyễn Văn An", "Nguyễn Văn Ân", "Lê Văn Tư"}, nil)

	ck.Set(time.Date(2027, 3, 20, 9, 0, 0, 0, hcm))
	sec.Send("/report")
	rep := sec.WaitMessage("Báo cáo sinh hoạt chi bộ")
	for _, want := range []string{"quý I/2027", "05/01 định kỳ: 5/5 = 100%", "02/02 định kỳ: 3/5 = 60%", "02/03 chuyên đề: 4/5 = 80%", "Cả kỳ: 12/15 = 80%, chỉ tiêu 85%"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("report lacks %q:\n%s", want, rep.Text)
		}
	}
	var chart telegramtest.Message
	e.srv.WaitUntil(func() bool {
		for _, m := range sec.Messages() {
			if m.PhotoFileID != "" {
				chart = m
				return true
			}
		}
		return false
	})
	data, _, _ := e.srv.FileData(chart.PhotoFileID)
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width < 400 || cfg.Height < 200 || len(data) > 1<<20 {
		t.Errorf("chart: %v, %dx%d, %d bytes", err, cfg.Width, cfg.Height, len(data))
	}
	if len([]rune(chart.Caption)) > 1024 {
		t.Errorf("chart caption of %d characters", len([]rune(chart.Caption)))
	}

	// /export: the CSV and the XLSX, read back, match the stored outcomes.
	sec.Send("/export Q1/2027")
	var docs []telegramtest.Message
	e.srv.WaitUntil(func() bool {
		docs = docs[:0]
		for _, m := range sec.Messages() {
			// The minutes drafts each /close sends are documents too.
			if m.DocumentFileID != "" && !strings.HasSuffix(m.FileName, ".docx") {
				docs = append(docs, m)
			}
		}
		return len(docs) == 2
	})
	csvData, csvName, _ := e.srv.FileData(docs[0].DocumentFileID)
	if !strings.HasSuffix(csvName, ".csv") || !bytes.HasPrefix(csvData, []byte("\ufeff")) {
		t.Fatalf("first document %q does not start with a BOM", csvName)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvData, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+15 {
		t.Fatalf("CSV has %d rows, want a header and 15", len(rows))
	}
	stored := storedOutcomes(t, e, s.cell.ID)
	words := map[cell.Outcome]string{cell.OutcomePresent: "có mặt", cell.OutcomeExcused: "vắng có lý do", cell.OutcomeAbsent: "vắng không lý do"}
	for _, r := range rows[1:] {
		key := r[0] + " " + r[3]
		want, ok := stored[key]
		if !ok {
			t.Errorf("CSV row %v: no such meeting and member", r)
			continue
		}
		if r[8] != words[want] {
			t.Errorf("CSV %s: outcome %q, stored %q", key, r[8], want)
		}
	}
	xlsxData, xlsxName, _ := e.srv.FileData(docs[1].DocumentFileID)
	if !strings.HasSuffix(xlsxName, ".xlsx") {
		t.Fatalf("second document is %q", xlsxName)
	}
	book, err := excelize.OpenReader(bytes.NewReader(xlsxData))
	if err != nil {
		t.Fatal(err)
	}
	detail, err := book.GetRows("Chi tiết")
	if err != nil {
		t.Fatal(err)
	}
	if len(detail) != 16 {
		t.Errorf("the XLSX detail sheet has %d rows, want 16", len(detail))
	}
	for _, r := range detail[1:] {
		if len(r) > 8 && r[8] != words[stored[r[0]+" "+r[3]]] {
			t.Errorf("XLSX %s %s: outcome %q, stored %q", r[0], r[3], r[8], stored[r[0]+" "+r[3]])
		}
	}

	// A member: refused /report and /export; /history shows only their own record.
	an := u("Nguyễn Văn Ân")
	an.Send("/report")
	an.WaitMessage("chỉ dành cho chi ủy")
	an.Send("/export")
	e.srv.WaitUntil(func() bool { return count(an, "chỉ dành cho chi ủy") == 2 })
	an.Send("/history")
	h := an.WaitMessage("Sinh hoạt của đồng chí Nguyễn Văn Ân")
	for _, other := range []string{"Nguyễn Văn An ", "Lê Văn Tư", "Trần Thị Bình", "Nguyễn Thị Lan"} {
		if strings.Contains(h.Text, other) {
			t.Errorf("/history shows %q:\n%s", other, h.Text)
		}
	}

	// /calendar: the meetings to come, at their times in UTC.
	sec.Send("/meeting 06/04/2027 19:30 at Nhà văn hóa, khu phố 3")
	sec.WaitMessage("Đã tạo buổi sinh hoạt định kỳ lúc Thứ Ba, 06/04/2027 19:30")
	an.Send("/calendar")
	var cal telegramtest.Message
	e.srv.WaitUntil(func() bool {
		for _, m := range an.Messages() {
			if m.DocumentFileID != "" {
				cal = m
				return true
			}
		}
		return false
	})
	icsData, _, _ := e.srv.FileData(cal.DocumentFileID)
	parsed, err := ics.ParseCalendar(bytes.NewReader(icsData))
	if err != nil {
		t.Fatal(err)
	}
	events := parsed.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	at, err := events[0].GetStartAt()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 4, 6, 12, 30, 0, 0, time.UTC); !at.Equal(want) {
		t.Errorf("event starts %v, want %v", at.UTC(), want)
	}
}

// countMeetings is how many notices a member has had by a month of the test.
func countMeetings(m time.Month) int { return int(m) }

// storedOutcomes maps "dd/mm/yyyy name" to the outcome stored at /close.
func storedOutcomes(t *testing.T, e *env, cellID int64) map[string]cell.Outcome {
	t.Helper()
	ctx := context.Background()
	ms, err := e.store.Meetings(ctx, cellID, time.Date(2027, 1, 1, 0, 0, 0, 0, hcm), time.Date(2027, 4, 1, 0, 0, 0, 0, hcm))
	if err != nil {
		t.Fatal(err)
	}
	members, err := e.store.Members(ctx, cellID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cell.Outcome{}
	for _, m := range ms {
		os, err := e.store.Outcomes(ctx, cellID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, mem := range members {
			out[m.Start.In(hcm).Format("02/01/2006")+" "+mem.Name] = os[mem.ID]
		}
	}
	if len(out) != 15 {
		t.Fatalf("%d stored outcomes, want 15", len(out))
	}
	return out
}
