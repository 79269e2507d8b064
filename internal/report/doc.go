// Package report turns a cell's meetings and attendance into what the secretary
// carries to the ward: figures, CSV, XLSX, a chart, and an iCalendar file.
//
// Everything here is a pure function over in-memory data: the caller loads a
// [Period]'s meetings with their [cell.Summary] (and the members' answers) into
// a [Data] and picks the formats. [Compute] gives the figures, [Text] the
// /report message, [MemberHistory] the /history message, [CSV] and [XLSX] the
// /export documents, [Chart] the photo sent with /report and [Calendar] the
// /calendar file. Only closed meetings count in figures and exports; cancelled
// ones never appear.
//
// # Libraries
//
// Formats are written with maintained libraries rather than by hand:
//
//   - github.com/xuri/excelize/v2 (BSD-3-Clause) writes the XLSX workbook: the
//     reference Go library for OOXML spreadsheets, released several times a
//     year, it freezes panes and sizes columns, and reads workbooks back for
//     the tests.
//   - gonum.org/v1/plot (BSD-3-Clause) draws the chart: the Gonum project's
//     plotting package, pure Go (no cgo, no headless browser), PNG through
//     its vgimg back end.
//   - github.com/arran4/golang-ical (Apache-2.0) writes and parses iCalendar
//     (RFC 5545): folding, escaping, TZID parameters, VALARM and VTIMEZONE
//     components, and a parser used by the tests.
//
// The chart's font is embedded (fonts/): Liberation Sans 2 (SIL Open Font
// License 1.1, fonts/LICENSE-OFL.txt), which has every Vietnamese letter with
// its tone marks (ư, ơ, ạ, ế, ộ, ự…). The Go fonts of golang.org/x/image lack
// ơ, ư and the Latin Extended Additional block, so Vietnamese labels would show
// as boxes. The font is registered in a font cache of this package, not in
// plot's global one, so nothing else is changed by importing it.
package report
