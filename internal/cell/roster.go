package cell

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
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
	ProblemTooLong // Value: the column, Count: its limit
)

// Longest texts a roster keeps, in characters.
const (
	MaxNameLen   = 100
	MaxReasonLen = 200
)

// LineError names the first bad line of a roster and what is wrong with it.
type LineError struct {
	Line    int // 1-based, the header is line 1
	Problem LineProblem
	Value   string // the offending value
	Other   int    // for ProblemDuplicate: the line it repeats
	Count   int    // for ProblemColumns: the columns found; for ProblemTooLong: the limit
}

func (e *LineError) Error() string {
	return fmt.Sprintf("roster line %d: problem %d (%q)", e.Line, e.Problem, e.Value)
}

// ParseRoster reads a roster CSV: UTF-8 with or without a BOM, comma or semicolon
// separated (spreadsheet exports use either), a header line, then one member a
// line. It stops at the first bad line and returns a *LineError naming it.
func ParseRoster(data []byte) ([]Member, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, &LineError{Line: 1, Problem: ProblemEncoding}
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var (
		out    []Member
		seen   = map[string]int{}
		header = true
	)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &LineError{Line: pe.StartLine, Problem: ProblemQuote}
			}
			return nil, fmt.Errorf("read roster: %w", err)
		}
		line, _ := r.FieldPos(0)
		if header {
			header = false
			if !isHeader(rec) {
				return nil, &LineError{Line: line, Problem: ProblemHeader}
			}
			continue
		}
		if blank(rec) {
			continue // a blank line, or a spreadsheet's filler row of separators
		}
		// Spreadsheets drop trailing empty cells; five at most.
		if len(rec) < 3 || len(rec) > len(RosterColumns) {
			return nil, &LineError{Line: line, Problem: ProblemColumns, Count: len(rec)}
		}
		for len(rec) < len(RosterColumns) {
			rec = append(rec, "")
		}
		m, lerr := parseRosterLine(rec)
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
	if header {
		return nil, &LineError{Line: 1, Problem: ProblemHeader}
	}
	if len(out) == 0 {
		return nil, &LineError{Line: 2, Problem: ProblemEmpty}
	}
	return out, nil
}

func isHeader(rec []string) bool {
	if len(rec) < 3 {
		return false
	}
	for i, col := range rec {
		if i >= len(RosterColumns) || Fold(col) != RosterColumns[i] {
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
