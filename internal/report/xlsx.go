package report

import (
	"fmt"
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
// longest cell. Dates and times are text (dd/mm/yyyy, HH:MM, in the cell's
// time zone); counts are numbers, rates are numbers shown as percentages.
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
			m.Start.Format("02/01/2006"), m.Start.Format("15:04"), kindLong(lang, m.Kind),
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
		detail = append(detail, toAny(detailRecord(lang, r)))
	}

	sheets := []struct {
		name    string
		rows    [][]any
		percent []int // 1-based columns shown as percentages
	}{
		{texts.T(lang, texts.ExportSheetMeetings), meetings, []int{8, 9}},
		{texts.T(lang, texts.ExportSheetMembers), members, nil},
		{texts.T(lang, texts.ExportSheetDetail), detail, nil},
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
		if err := writeSheet(f, s.name, s.rows, bold, pct, s.percent); err != nil {
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

// writeSheet writes rows from A1, the first in bold and frozen, sizes the
// columns to their longest cell, and shows the percent columns as such.
func writeSheet(f *excelize.File, sheet string, rows [][]any, bold, pct int, percent []int) error {
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
	for _, col := range percent {
		if len(rows) < 2 {
			break
		}
		from, _ := excelize.CoordinatesToCellName(col, 2)
		to, _ := excelize.CoordinatesToCellName(col, len(rows))
		if err := f.SetCellStyle(sheet, from, to, pct); err != nil {
			return fmt.Errorf("report: sheet %q percent style: %w", sheet, err)
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
