package report

import (
	"bytes"
	"encoding/csv"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

// bom opens the CSV so that spreadsheet programs read it as UTF-8.
const bom = "\ufeff"

// detailHeader is the header of the CSV and of the XLSX detail sheet.
func detailHeader(lang string) []string {
	return []string{
		texts.T(lang, texts.ExportColDate),
		texts.T(lang, texts.ExportColTime),
		texts.T(lang, texts.ExportColKind),
		texts.T(lang, texts.ExportColMember),
		texts.T(lang, texts.ExportColStanding),
		texts.T(lang, texts.ExportColParticipation),
		texts.T(lang, texts.ExportColAnswer),
		texts.T(lang, texts.ExportColReason),
		texts.T(lang, texts.ExportColOutcome),
	}
}

// detailRecord is one Row as cells: date dd/mm/yyyy and time HH:MM in the
// cell's time zone, then words in lang. The reason is its category, then
// ": " and the member's text for "other".
func detailRecord(lang string, r Row) []string {
	reason := reasonLabel(lang, r.Reason)
	if r.ReasonText != "" {
		reason += ": " + r.ReasonText
	}
	return []string{
		r.Meeting.Start.Format("02/01/2006"),
		r.Meeting.Start.Format("15:04"),
		kindLong(lang, r.Meeting.Kind),
		r.Member.Name,
		standingLabel(lang, r.Member.Standing),
		participationLabel(lang, r.Participation),
		answerLabel(lang, r.Answer),
		reason,
		outcomeLabel(lang, r.Outcome),
	}
}

// CSV is the attendance of d's closed meetings as a CSV document: UTF-8 with
// a byte order mark, comma separated, a header line in lang (Vietnamese
// unless "en"), then one line per meeting and member (see Rows) with the
// columns date, time, kind, member, standing, participation, answer, reason,
// outcome.
//
// A cell that a spreadsheet would take for a formula (names and reasons are
// user text) is defused with an apostrophe, as OWASP advises against CSV
// injection: see defuse.
func CSV(lang string, d Data) []byte {
	var buf bytes.Buffer
	buf.WriteString(bom)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true // what spreadsheet programs write and expect
	_ = w.Write(detailHeader(lang))
	for _, r := range Rows(d) {
		rec := detailRecord(lang, r)
		for i, v := range rec {
			rec[i] = defuse(v)
		}
		_ = w.Write(rec) // a bytes.Buffer does not fail
	}
	w.Flush()
	return buf.Bytes()
}

// formulaStarts are the first characters that make a spreadsheet evaluate a
// cell: = + - @, and a tab or carriage return (OWASP, CSV injection).
const formulaStarts = "=+-@\t\r"

// defuse puts an apostrophe in front of every part of v that a spreadsheet
// could read as a cell starting a formula. A part starts at the beginning of
// v, after each ';' (Excel in a locale whose list separator is ';', Vietnamese
// among them, splits a CSV line there, and the writer quotes only fields with
// a comma, a quote or a line break) and after each line break (in case a
// reader does not honour the quotes around it). Spaces and double quotes at a
// part's start are looked past, since a reader may drop them.
func defuse(v string) string {
	if !strings.ContainsAny(v, formulaStarts) {
		return v
	}
	var b strings.Builder
	b.Grow(len(v) + 1)
	start := true
	for i := range len(v) {
		if start {
			j := i
			for j < len(v) && (v[j] == ' ' || v[j] == '"') {
				j++
			}
			if j < len(v) && strings.IndexByte(formulaStarts, v[j]) >= 0 {
				b.WriteByte('\'')
			}
			start = false
		}
		b.WriteByte(v[i])
		start = v[i] == ';' || v[i] == '\n'
	}
	return b.String()
}

// FileName is a file name for the period's documents, ASCII only, with ext
// (".csv", ".xlsx", ".png"): "chuyen-can_chi-bo-khu-pho-3_Q2-2026.csv".
func FileName(f Figures, ext string) string {
	return "chuyen-can_" + slug(f.Cell) + "_" + f.Period.slug() + ext
}

// slug is s folded to lower-case ASCII words joined by hyphens.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range cell.Fold(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 60 {
		out = strings.TrimRight(out[:60], "-")
	}
	if out == "" {
		out = "cellbot"
	}
	return out
}
