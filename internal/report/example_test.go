package report_test

import (
	"fmt"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/report"
)

// The lead's /report handler in outline: load the period's meetings with
// their summaries, compute once, and send the text parts, then the chart
// with its caption.
func Example() {
	c := cell.Cell{Name: "Chi bộ Khu phố 3", TimeZone: "Asia/Ho_Chi_Minh"}
	loc := c.Location()
	now := time.Date(2026, 4, 20, 10, 0, 0, 0, loc)
	period, err := report.ParsePeriod("", now, loc) // "/report" alone: this quarter
	if err != nil {
		panic(err)
	}
	roster := []cell.Member{
		{ID: 1, Name: "Nguyễn Thị Lan", Standing: cell.Official, Participation: cell.Regular},
		{ID: 2, Name: "Trần Văn Bình", Standing: cell.Official, Participation: cell.Regular},
	}
	m := cell.Meeting{ID: 7, Kind: cell.KindRegular, Start: time.Date(2026, 4, 3, 14, 0, 0, 0, loc), State: cell.StateClosed}
	presence := []cell.Presence{{MemberID: 1, Mark: cell.PresentByCode}}
	answers := []cell.Answer{{MemberID: 2, Kind: cell.Excused, Reason: cell.ReasonIllness}}
	d := report.Data{
		Cell:   c,
		Period: period,
		Roster: roster,
		Meetings: []report.Meeting{{
			Meeting: m,
			Answers: answers,
			Summary: cell.Summarize(m.Start, roster, answers, presence, nil, 0),
		}},
	}

	f := report.Compute(d)
	for _, part := range report.Text("vi", f) {
		fmt.Println(part) // one sendMessage each, parse_mode HTML
	}
	if png, err := report.Chart("vi", f); err == nil {
		fmt.Println(len(png) > 0, report.Caption("vi", f)) // sendPhoto
	}
	// /export: report.CSV("vi", d) and report.XLSX("vi", d), named with
	// report.FileName(f, ".csv") and captioned with report.ExportCaption.
	fmt.Println(report.FileName(f, ".xlsx"))
	// Output:
	// 📊 <b>Báo cáo sinh hoạt chi bộ</b>
	// <b>Chi bộ Khu phố 3</b> · quý II/2026
	//
	// <b>Theo buổi họp</b> (có mặt/phải dự)
	// 03/04 định kỳ: 1/2 = 50% ⚠️
	//    vắng có lý do 1 (ốm đau 1), không lý do 0
	// <b>Cả kỳ</b>: 1/2 = 50%, chỉ tiêu 85%
	//
	// ⚠️ <b>Sinh hoạt chuyên đề</b>: chưa có buổi nào.
	//
	// <b>Theo đảng viên</b> (có mặt/phải dự)
	// • Nguyễn Thị Lan: 1/1
	// • Trần Văn Bình: 0/1, vắng có lý do 1 (ốm đau 1)
	// true 📈 Tỷ lệ dự họp quý II/2026, Chi bộ Khu phố 3: 50% (chỉ tiêu 85%)
	// chuyen-can_chi-bo-khu-pho-3_Q2-2026.xlsx
}
