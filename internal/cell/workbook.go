package cell

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// maxWorkbookXML bounds what a workbook may unpack to. A roster file is at most
// a mebibyte, but XML packs tightly: a crafted file could unpack to gigabytes.
const maxWorkbookXML = 32 << 20

// ParseRosterXLSX reads a roster from the first sheet of an Excel workbook,
// with the same header and lines as ParseRoster; line numbers are the sheet's
// row numbers. A date cell in the until column is read as the date it shows.
// A file that is no workbook is a *LineError with ProblemWorkbook.
func ParseRosterXLSX(data []byte) (_ []Member, err error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: maxWorkbookXML, UnzipXMLSizeLimit: maxWorkbookXML,
	})
	if err != nil {
		return nil, &LineError{Problem: ProblemWorkbook, Value: err.Error()}
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close workbook: %w", cerr)
		}
	}()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &LineError{Problem: ProblemWorkbook}
	}
	rows, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &LineError{Problem: ProblemWorkbook, Value: err.Error()}
	}
	date1904 := false
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		date1904 = *props.Date1904
	}
	i := 0
	next := func() ([]string, int, error) {
		if i >= len(rows) {
			return nil, 0, io.EOF
		}
		i++
		return rows[i-1], i, nil
	}
	return parseRecordsWith(next, false, func(s string) string { return serialDate(s, date1904) })
}

// serialDate turns a date cell's raw value, days since 1900 (or 1904), into
// dd/mm/yyyy; anything else, a date typed as text, is left as it is.
func serialDate(s string, date1904 bool) string {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 1 {
		return s
	}
	t, err := excelize.ExcelDateToTime(v, date1904)
	if err != nil {
		return s
	}
	return t.Format("02/01/2006")
}
