package cell

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RosterColumns is the header line of a roster CSV, as /import takes it.
var RosterColumns = []string{"name", "standing", "participation", "until", "reason"}

// LineProblem says what is wrong with a roster line.
type LineProblem int

// Problems a roster line can have.
const (
	ProblemHeader LineProblem = iota
	ProblemColumns
	ProblemName
	ProblemStanding
	ProblemParticipation
	ProblemDate
	ProblemDuplicate
	ProblemEncoding
	ProblemQuote
	ProblemEmpty
	ProblemTooLong  // Value: the column, Count: its limit
	ProblemWorkbook // the file is no workbook that can be read
	ProblemUnmarked // a workbook row without standing and participation
)

// Longest texts a roster keeps, in characters.
const (
	MaxNameLen   = 100
	MaxReasonLen = 200
)

// LineError names the first bad line of a roster and what is wrong with it.
type LineError struct {
	Line    int // 1-based, as a text editor or a spreadsheet numbers it
	Problem LineProblem
	Value   string // the offending value
	Other   int    // for ProblemDuplicate: the line it repeats; for ProblemColumns: the header's columns
	Count   int    // for ProblemColumns: the columns found; for ProblemTooLong: the limit
}

func (e *LineError) Error() string {
	return fmt.Sprintf("roster line %d: problem %d (%q)", e.Line, e.Problem, e.Value)
}

// ParseRoster reads a roster CSV as spreadsheets save it: UTF-8 with or without
// a BOM, UTF-16 (Excel's "Unicode Text"), or else Windows-1258 (Excel's "CSV"
// on a Vietnamese Windows); comma, semicolon or tab separated; a header row
// naming the columns in English or Vietnamese, then one member a line. It stops
// at the first bad line and returns a *LineError naming it.
func ParseRoster(data []byte) ([]Member, error) {
	text, err := decodeRoster(data)
	if err != nil {
		return nil, err
	}
	first, _, _ := bytes.Cut(text, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(text))
	r.Comma = separator(first)
	r.FieldsPerRecord = -1
	// Spaces after a comma are dropped so that a quoted field after one still
	// reads; with tabs that would swallow the empty fields.
	r.TrimLeadingSpace = r.Comma != '\t'
	next := func() ([]string, int, error) {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, 0, &LineError{Line: pe.StartLine, Problem: ProblemQuote}
			}
			return nil, 0, fmt.Errorf("read roster: %w", err)
		}
		line, _ := r.FieldPos(0)
		return rec, line, nil
	}
	return parseRecordsWith(next, true, nil)
}

// separator is the one of comma, semicolon and tab the header line uses most:
// spreadsheets save with a comma or, where the comma is the decimal sign, a
// semicolon; "Unicode Text" is tab separated.
func separator(header []byte) rune {
	sep, most := ',', bytes.Count(header, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if n := bytes.Count(header, []byte(string(c))); n > most {
			sep, most = c, n
		}
	}
	return sep
}

// headerSearch is how many rows may come before the header: a workbook often
// opens with the cell's name and a title.
const headerSearch = 10

// parseRecordsWith reads a roster's rows from next, which returns io.EOF after
// the last. strict refuses a row with fewer than three cells or more than the
// header, which in a CSV means a comma in a name that was not quoted; a
// workbook's cells cannot shift, so there a note beside the table is ignored.
// until, when not nil, rewrites the until cell before it is read.
func parseRecordsWith(next func() ([]string, int, error), strict bool, until func(string) string) ([]Member, error) {
	var (
		out  []Member
		seen = map[string]int{}
		cols *columns
		rows int
	)
	for {
		rec, line, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if cols == nil {
			if blank(rec) {
				continue
			}
			if cols = findColumns(rec); cols != nil {
				cols.line = line
				continue
			}
			if rows++; rows >= headerSearch {
				break
			}
			continue
		}
		if blank(rec) || (line == cols.line+1 && numbering(rec)) {
			continue // a blank line, a filler row of separators, or the columns' numbers under the header
		}
		if strict && (len(rec) < 3 || len(rec) > cols.width && !blank(rec[cols.width:])) {
			return nil, &LineError{Line: line, Problem: ProblemColumns, Count: len(rec), Other: cols.width}
		}
		picked := cols.pick(rec)
		if until != nil {
			picked[colUntil] = until(picked[colUntil])
		}
		// Under a workbook's table there is often a total or a signature
		// ("Tổng số: 74 đồng chí", "BÍ THƯ"), which would read as a member
		// with the defaults: a workbook row must say a standing or a
		// participation.
		if !strict && strings.TrimSpace(picked[colStanding]) == "" && strings.TrimSpace(picked[colParticipation]) == "" {
			return nil, &LineError{Line: line, Problem: ProblemUnmarked, Value: Clean(picked[colName])}
		}
		m, lerr := parseRosterLine(picked)
		if lerr != nil {
			lerr.Line = line
			return nil, lerr
		}
		key := Key(m.Name)
		if prev, ok := seen[key]; ok {
			return nil, &LineError{Line: line, Problem: ProblemDuplicate, Value: m.Name, Other: prev}
		}
		seen[key] = line
		out = append(out, m)
	}
	if cols == nil {
		return nil, &LineError{Line: 1, Problem: ProblemHeader}
	}
	if len(out) == 0 {
		return nil, &LineError{Line: cols.line + 1, Problem: ProblemEmpty}
	}
	return out, nil
}

// Column kinds, the first five in the order parseRosterLine takes them.
const (
	colName = iota
	colStanding
	colParticipation
	colUntil
	colReason
	colSurname // "Họ và tên đệm" beside "Tên": the name split in two
	colIgnored
	colKinds
)

// headerNames are the column names a header may use, as normalHeader leaves
// them: the English ones, and the Vietnamese ones rosters are typed with.
var headerNames = map[string]int{
	"name": colName, "full name": colName, "ho va ten": colName, "ho ten": colName,
	"ho va ten dang vien": colName, "ho ten dang vien": colName, "ten dang vien": colName,
	"ten": colName,
	"ho":  colSurname, "ho dem": colSurname, "ho va dem": colSurname, "ho va ten dem": colSurname,
	"ho va chu dem": colSurname, "ho chu dem": colSurname,
	"standing": colStanding, "chinh thuc du bi": colStanding, "chinh thuc hay du bi": colStanding,
	"tu cach": colStanding, "tu cach dang vien": colStanding, "dang vien chinh thuc du bi": colStanding,
	"participation": colParticipation, "sinh hoat": colParticipation, "dien sinh hoat": colParticipation,
	"hinh thuc sinh hoat": colParticipation,
	"until":               colUntil, "den ngay": colUntil, "thoi han": colUntil,
	"reason": colReason, "ly do": colReason,
	"stt": colIgnored, "tt": colIgnored, "so tt": colIgnored, "so thu tu": colIgnored, "no": colIgnored,
}

// normalHeader is a header cell without accents, case or punctuation:
// "Chính thức/Dự bị" is "chinh thuc du bi".
func normalHeader(s string) string {
	return strings.Join(strings.FieldsFunc(Fold(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// columns is where a header puts each kind of column.
type columns struct {
	at    [colKinds]int // the column of each kind, -1 when absent
	width int           // cells up to the header's last named one
	line  int           // the header's line
}

// findColumns reads rec as a header row: nil unless it names the name, the
// standing and the participation columns. Columns it does not know (a birth
// date, a note) are ignored; of two alike, the first counts.
func findColumns(rec []string) *columns {
	c := &columns{}
	for k := range c.at {
		c.at[k] = -1
	}
	for i, cell := range rec {
		h := normalHeader(cell)
		if h == "" {
			continue
		}
		c.width = i + 1
		if k, ok := headerNames[h]; ok && c.at[k] < 0 {
			c.at[k] = i
		}
	}
	if c.at[colName] < 0 || c.at[colStanding] < 0 || c.at[colParticipation] < 0 {
		return nil
	}
	return c
}

// pick returns a row's cells in the order parseRosterLine takes them; a cell
// past the row's end (spreadsheets drop trailing empty ones) is empty.
func (c *columns) pick(rec []string) []string {
	get := func(k int) string {
		if i := c.at[k]; i >= 0 && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	name := get(colName)
	if c.at[colSurname] >= 0 {
		name = get(colSurname) + " " + name
	}
	return []string{name, get(colStanding), get(colParticipation), get(colUntil), get(colReason)}
}

// numbering reports a row of column numbers, "1, 2, 3" or "(1), (2)", as
// official forms put under their header.
func numbering(rec []string) bool {
	for _, f := range rec {
		f = strings.Trim(strings.TrimSpace(f), "()")
		if f == "" {
			continue
		}
		if strings.TrimFunc(f, unicode.IsDigit) != "" {
			return false
		}
	}
	return true
}

func parseRosterLine(rec []string) (Member, *LineError) {
	name := Clean(rec[0])
	if name == "" {
		return Member{}, &LineError{Problem: ProblemName}
	}
	if utf8.RuneCountInString(name) > MaxNameLen {
		return Member{}, &LineError{Problem: ProblemTooLong, Value: "name", Count: MaxNameLen}
	}
	st, err := ParseStanding(rec[1])
	if err != nil {
		return Member{}, &LineError{Problem: ProblemStanding, Value: strings.TrimSpace(rec[1])}
	}
	p, err := ParseParticipation(rec[2])
	if err != nil {
		return Member{}, &LineError{Problem: ProblemParticipation, Value: strings.TrimSpace(rec[2])}
	}
	m := Member{Name: name, Standing: st, Participation: p, Reason: strings.TrimSpace(NFC(rec[4]))}
	if utf8.RuneCountInString(m.Reason) > MaxReasonLen {
		return Member{}, &LineError{Problem: ProblemTooLong, Value: "reason", Count: MaxReasonLen}
	}
	if u := strings.TrimSpace(rec[3]); u != "" {
		d, err := ParseDate(u)
		if err != nil {
			return Member{}, &LineError{Problem: ProblemDate, Value: u}
		}
		m.Until = d
	}
	return m, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
