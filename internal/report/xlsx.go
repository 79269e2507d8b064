package report

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

// Column widths, in the characters of a spreadsheet's default font.
const (
	minColWidth = 6
	maxColWidth = 60
)

// XLSX is the attendance of d's closed meetings as a workbook with three
// sheets, headers in lang: by meeting (date, time, kind, title, place,
// expected, present, rate, target, target met, excused, absent without reason,
// came while not expected, guests), by member (name, standing, participation,
// meetings expected, present, excused in all and by category, absent without
// reason, came while not expected), and the detail, the same lines as CSV.
// Each sheet has its header row frozen and its columns as wide as their
// longest cell. Dates and times are the spreadsheet's own date and time
// values (shown dd/mm/yyyy and HH:MM, in the cell's time zone), so that the
// committee can sort and filter by them; counts are numbers, rates are
// numbers shown as percentages.
func XLSX(lang string, d Data) (_ []byte, err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("report: close workbook: %w", cerr)
		}
	}()
	fig := Compute(d)
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, fmt.Errorf("report: workbook style: %w", err)
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 9}) // 0%
	if err != nil {
		return nil, fmt.Errorf("report: workbook style: %w", err)
	}
	// Custom formats rather than the built-in date format 14, which Excel
	// shows in the reader's regional short date (m/d/yyyy in an English
	// Windows).
	dateFmt, timeFmt := "dd/mm/yyyy", "hh:mm"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return nil, fmt.Errorf("report: workbook style: %w", err)
	}
	clock, err := f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt})
	if err != nil {
		return nil, fmt.Errorf("report: workbook style: %w", err)
	}
	formats := map[int]colFormat{1: {date, len("31/12/2026")}, 2: {clock, len("23:59")}}
	rateFormats := map[int]colFormat{1: formats[1], 2: formats[2], 8: {pct, 4}, 9: {pct, 4}}

	meetings := [][]any{{
		texts.T(lang, texts.ExportColDate), texts.T(lang, texts.ExportColTime), texts.T(lang, texts.ExportColKind),
		texts.T(lang, texts.ExportColTitle), texts.T(lang, texts.ExportColPlace), texts.T(lang, texts.ExportColExpected),
		texts.T(lang, texts.ExportColPresent), texts.T(lang, texts.ExportColRate), texts.T(lang, texts.ExportColTarget),
		texts.T(lang, texts.ExportColMeetsTarget), texts.T(lang, texts.ExportColExcused), texts.T(lang, texts.ExportColAbsent),
		texts.T(lang, texts.ExportColCameNotExpected), texts.T(lang, texts.ExportColGuests),
	}}
	for _, m := range fig.Meetings {
		met := texts.T(lang, texts.ReportNo)
		if m.MeetsTarget {
			met = texts.T(lang, texts.ReportYes)
		}
		rate := 0.0
		if m.Expected > 0 {
			rate = float64(m.Present) / float64(m.Expected)
		}
		meetings = append(meetings, []any{
			excelDate(m.Start), excelTime(m.Start), kindLong(lang, m.Kind),
			m.Title, m.Place, m.Expected,
			m.Present, rate, float64(m.Target) / 100,
			met, m.Excused, m.Absent,
			m.PresentNotExpected, m.Guests,
		})
	}

	members := [][]any{{
		texts.T(lang, texts.ExportColMember), texts.T(lang, texts.ExportColStanding), texts.T(lang, texts.ExportColParticipation),
		texts.T(lang, texts.ExportColMeetingsDue), texts.T(lang, texts.ExportColPresent), texts.T(lang, texts.ExportColExcused),
	}}
	for _, r := range cell.ReasonCategories {
		members[0] = append(members[0], texts.T(lang, texts.ExportColExcused)+": "+reasonLabel(lang, r))
	}
	members[0] = append(members[0], texts.T(lang, texts.ExportColAbsent), texts.T(lang, texts.ExportColCameNotExpected))
	for _, mf := range fig.Members {
		row := []any{
			mf.Member.Name, standingLabel(lang, mf.Member.Standing), participationLabel(lang, mf.Member.Participation),
			mf.Expected, mf.Present, mf.Excused,
		}
		for _, r := range cell.ReasonCategories {
			row = append(row, mf.ByReason[r])
		}
		members = append(members, append(row, mf.Absent, mf.PresentNotExpected))
	}

	detail := [][]any{toAny(detailHeader(lang))}
	for _, r := range Rows(d) {
		row := toAny(detailRecord(lang, r))
		row[0], row[1] = excelDate(r.Meeting.Start), excelTime(r.Meeting.Start)
		detail = append(detail, row)
	}

	sheets := []struct {
		name    string
		rows    [][]any
		formats map[int]colFormat // by 1-based column
	}{
		{texts.T(lang, texts.ExportSheetMeetings), meetings, rateFormats},
		{texts.T(lang, texts.ExportSheetMembers), members, nil},
		{texts.T(lang, texts.ExportSheetDetail), detail, formats},
	}
	for i, s := range sheets {
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), s.name)
		} else {
			_, err = f.NewSheet(s.name)
		}
		if err != nil {
			return nil, fmt.Errorf("report: sheet %q: %w", s.name, err)
		}
		if err := writeSheet(f, s.name, s.rows, bold, s.formats); err != nil {
			return nil, err
		}
	}
	f.SetActiveSheet(0)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("report: write workbook: %w", err)
	}
	return buf.Bytes(), nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// excelEpoch is day 0 of a spreadsheet's dates (Excel counts 1900 as a leap
// year, so from March 1900 on, days are counted from 30 December 1899).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelDate is t's day as a spreadsheet date value: whole days since
// excelEpoch. A spreadsheet has no time zones, so t's own wall clock counts.
func excelDate(t time.Time) float64 {
	y, m, d := t.Date()
	return float64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(excelEpoch) / (24 * time.Hour))
}

// excelTime is t's time of day as a spreadsheet time value: a fraction of a day.
func excelTime(t time.Time) float64 {
	return float64(t.Hour()*60+t.Minute()) / (24 * 60)
}

// colFormat is a column's number format and the width of what it shows.
type colFormat struct {
	style, width int
}

// writeSheet writes rows from A1, the first in bold and frozen, sizes the
// columns to their longest cell, and gives the formatted columns their style.
func writeSheet(f *excelize.File, sheet string, rows [][]any, bold int, formats map[int]colFormat) error {
	widths := make([]int, len(rows[0]))
	for i, row := range rows {
		at, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return fmt.Errorf("report: sheet %q: %w", sheet, err)
		}
		if err := f.SetSheetRow(sheet, at, &row); err != nil {
			return fmt.Errorf("report: sheet %q row %d: %w", sheet, i+1, err)
		}
		for j, v := range row {
			n := 4 // a number or a percentage
			if s, ok := v.(string); ok {
				n = utf8.RuneCountInString(s)
			}
			widths[j] = max(widths[j], n)
		}
	}
	last, err := excelize.CoordinatesToCellName(len(rows[0]), 1)
	if err != nil {
		return fmt.Errorf("report: sheet %q: %w", sheet, err)
	}
	if err := f.SetCellStyle(sheet, "A1", last, bold); err != nil {
		return fmt.Errorf("report: sheet %q header style: %w", sheet, err)
	}
	for col, cf := range formats {
		if len(rows) < 2 {
			break
		}
		widths[col-1] = max(widths[col-1], cf.width)
		from, _ := excelize.CoordinatesToCellName(col, 2)
		to, _ := excelize.CoordinatesToCellName(col, len(rows))
		if err := f.SetCellStyle(sheet, from, to, cf.style); err != nil {
			return fmt.Errorf("report: sheet %q column %d style: %w", sheet, col, err)
		}
	}
	for j, w := range widths {
		name, err := excelize.ColumnNumberToName(j + 1)
		if err != nil {
			return fmt.Errorf("report: sheet %q: %w", sheet, err)
		}
		width := float64(min(max(w+2, minColWidth), maxColWidth))
		if err := f.SetColWidth(sheet, name, name, width); err != nil {
			return fmt.Errorf("report: sheet %q column %s width: %w", sheet, name, err)
		}
	}
	err = f.SetPanes(sheet, &excelize.Panes{
		Freeze:      true,
		YSplit:      1,
		TopLeftCell: "A2",
		ActivePane:  "bottomLeft",
		Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	})
	if err != nil {
		return fmt.Errorf("report: sheet %q freeze header: %w", sheet, err)
	}
	return nil
}
