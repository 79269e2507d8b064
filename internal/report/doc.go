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
// Formats are written with maintained libraries rather than by hand (checked
// 30/11/2026 through the Go module proxy; release dates are the proxy's):
//
//   - github.com/xuri/excelize/v2 v2.11.1 (BSD-3-Clause; 02/11/2026, after
//     v2.11.0 in 07/2026 and v2.10.1 in 02/2026) writes the XLSX workbook: the
//     reference Go library for OOXML spreadsheets, pure Go, released several
//     times a year; it freezes panes and sizes columns, and reads workbooks
//     back for the tests.
//   - gonum.org/v1/plot v0.17.0 (BSD-3-Clause; 21/09/2025, after v0.16.0 in
//     03/2025) draws the chart: the Gonum project's plotting package, pure Go
//     (no cgo, no headless browser), PNG through its vgimg back end, fonts
//     through a font cache we can fill ourselves.
//   - github.com/arran4/golang-ical v0.3.6 (Apache-2.0; 18/08/2026, after
//     v0.3.5 in 04/2026 and v0.3.4 in 03/2026) writes and parses iCalendar
//     (RFC 5545): folding at 75 octets, TEXT escaping, TZID parameters,
//     VALARM and VTIMEZONE components, and the parser the tests read the file
//     back with. Two known gaps we work around: its serializer ends lines
//     with the OS's newline unless told (an open upstream bug; we pass
//     ics.WithNewLineWindows for the CRLF the RFC asks), and AddTimezone
//     writes an empty VTIMEZONE (another; we add the observances from
//     Go's zone data).
//
// The chart's font is embedded (fonts/): Liberation Sans 2 (SIL Open Font
// License 1.1, fonts/LICENSE-OFL.txt), which has every Vietnamese letter with
// its tone marks (ư, ơ, ạ, ế, ộ, ự…). The Go fonts of golang.org/x/image lack
// ơ, ư and the Latin Extended Additional block, so Vietnamese labels would show
// as boxes. The font is registered in a font cache of this package, not in
// plot's global one, so nothing else is changed by importing it.
package report
