package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"github.com/cellbot/cellbot/internal/cell"
)

func TestCalendar(t *testing.T) {
	now := at(1, 6, 9, 0) // 01/06/2026 09:00 in Hồ Chí Minh City
	m := func(id int64, kind cell.MeetingKind, start time.Time, state cell.MeetingState) cell.Meeting {
		return cell.Meeting{ID: id, CellID: testCell.ID, Kind: kind, Start: start.UTC(), State: state, Version: 1}
	}
	next := m(13, cell.KindRegular, at(3, 6, 14, 0), cell.StateScheduled)
	next.Place = "Nhà văn hóa khu phố Đồng Tâm, 12 đường Hưng Đạo; tầng 2"
	next.Agenda = []string{"Báo cáo kết quả quý II", "Thảo luận nghị quyết, phương hướng quý III"}
	next.Version = 3 // moved twice
	topical := m(16, cell.KindTopical, at(15, 7, 19, 30), cell.StateScheduled)
	topical.Title = "Học tập Nghị quyết Đại hội XIV"
	meetings := []cell.Meeting{
		topical, // out of order on purpose
		m(11, cell.KindRegular, at(3, 4, 14, 0), cell.StateClosed),     // past
		m(12, cell.KindRegular, at(1, 6, 8, 0), cell.StateCheckin),     // started an hour ago
		m(14, cell.KindRegular, at(20, 6, 14, 0), cell.StateCancelled), // cancelled
		m(15, cell.KindRegular, at(3, 7, 19, 30), cell.StateScheduled), // a recurring occurrence
		next,
	}
	data, err := Calendar(testCell, meetings, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > MaxDocument {
		t.Fatalf("calendar of %d bytes", len(data))
	}
	if n := bytes.Count(data, []byte("\n")); n != bytes.Count(data, []byte("\r\n")) {
		t.Error("lines do not all end in CRLF")
	}
	for _, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets, RFC 5545 folds at 75: %q", len(line), line)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, data)
	}
	events := cal.Events()
	want := []struct {
		uid      string
		utc      time.Time
		summary  string
		location string
		seq      string
	}{
		{"cellbot-3-13@cellbot", time.Date(2026, 6, 3, 7, 0, 0, 0, time.UTC), "Sinh hoạt định kỳ · Chi bộ Khu phố Đồng Tâm", next.Place, "3"},
		{"cellbot-3-15@cellbot", time.Date(2026, 7, 3, 12, 30, 0, 0, time.UTC), "Sinh hoạt định kỳ · Chi bộ Khu phố Đồng Tâm", "", "1"},
		{"cellbot-3-16@cellbot", time.Date(2026, 7, 15, 12, 30, 0, 0, time.UTC), "Sinh hoạt chuyên đề: Học tập Nghị quyết Đại hội XIV · Chi bộ Khu phố Đồng Tâm", "", "1"},
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(events), len(want), data)
	}
	prop := func(e *ics.VEvent, p ics.ComponentProperty) string {
		if v := e.GetProperty(p); v != nil {
			return v.Value
		}
		return ""
	}
	for i, w := range want {
		e := events[i]
		t.Run(w.uid, func(t *testing.T) {
			if e.Id() != w.uid {
				t.Errorf("UID %q, want %q", e.Id(), w.uid)
			}
			start, err := e.GetStartAt()
			if err != nil {
				t.Fatal(err)
			}
			if !start.Equal(w.utc) {
				t.Errorf("DTSTART %v = %v UTC, want %v", start, start.UTC(), w.utc)
			}
			if tz := e.GetProperty(ics.ComponentPropertyDtStart).ICalParameters["TZID"]; len(tz) != 1 || tz[0] != "Asia/Ho_Chi_Minh" {
				t.Errorf("DTSTART TZID %v", tz)
			}
			end, err := e.GetEndAt()
			if err != nil || !end.Equal(w.utc.Add(MeetingLength)) {
				t.Errorf("DTEND %v (%v), want %v", end, err, w.utc.Add(MeetingLength))
			}
			if got := prop(e, ics.ComponentPropertySummary); got != w.summary {
				t.Errorf("SUMMARY %q, want %q", got, w.summary)
			}
			if got := prop(e, ics.ComponentPropertyLocation); got != w.location {
				t.Errorf("LOCATION %q, want %q", got, w.location)
			}
			if got := prop(e, ics.ComponentPropertySequence); got != w.seq {
				t.Errorf("SEQUENCE %q, want %q", got, w.seq)
			}
			var alarms []*ics.VAlarm
			for _, c := range e.Components {
				if a, ok := c.(*ics.VAlarm); ok {
					alarms = append(alarms, a)
				}
			}
			if len(alarms) != 1 {
				t.Fatalf("%d alarms, want 1", len(alarms))
			}
			if a := alarms[0]; a.GetProperty(ics.ComponentPropertyTrigger).Value != "-PT120M" ||
				a.GetProperty(ics.ComponentPropertyAction).Value != "DISPLAY" ||
				!strings.Contains(a.GetProperty(ics.ComponentPropertyDescription).Value, "Còn 2 giờ nữa") {
				t.Errorf("alarm %s", a.Serialize(nil))
			}
		})
	}
	if got := prop(events[0], ics.ComponentPropertyDescription); got != strings.Join(next.Agenda, "\n") {
		t.Errorf("DESCRIPTION %q", got)
	}
	tzs := cal.Timezones()
	if len(tzs) != 1 || tzs[0].GetProperty(ics.ComponentPropertyTzid).Value != "Asia/Ho_Chi_Minh" {
		t.Fatalf("VTIMEZONE missing:\n%s", data)
	}
	if !strings.Contains(string(data), "TZOFFSETTO:+0700") {
		t.Errorf("VTIMEZONE without +0700:\n%s", data)
	}

	// Re-exporting later gives the same UIDs: a phone updates the events.
	again, err := Calendar(testCell, meetings, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cal2, err := ics.ParseCalendar(bytes.NewReader(again))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range cal2.Events() {
		if e.Id() != events[i].Id() {
			t.Errorf("UID changed: %q then %q", events[i].Id(), e.Id())
		}
	}
}

// A zone with daylight saving gets its changes in the VTIMEZONE, and events
// either side of one keep their UTC times.
func TestCalendarDaylightSaving(t *testing.T) {
	berlin := mustLoad("Europe/Berlin")
	c := cell.Cell{ID: 9, Name: "Chi bộ Việt kiều Berlin", TimeZone: "Europe/Berlin", Lang: "en"}
	meetings := []cell.Meeting{
		{ID: 1, CellID: 9, Kind: cell.KindRegular, Start: time.Date(2026, 3, 21, 18, 0, 0, 0, berlin), State: cell.StateScheduled},
		{ID: 2, CellID: 9, Kind: cell.KindRegular, Start: time.Date(2026, 4, 4, 18, 0, 0, 0, berlin), State: cell.StateScheduled},
	}
	data, err := Calendar(c, meetings, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{"BEGIN:STANDARD", "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "DTSTART:20260329T020000", "Regular meeting · Chi bộ Việt kiều Berlin"} {
		if !strings.Contains(s, want) {
			t.Errorf("calendar lacks %q:\n%s", want, s)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	wantUTC := []time.Time{time.Date(2026, 3, 21, 17, 0, 0, 0, time.UTC), time.Date(2026, 4, 4, 16, 0, 0, 0, time.UTC)}
	for i, e := range cal.Events() {
		start, err := e.GetStartAt()
		if err != nil || !start.Equal(wantUTC[i]) {
			t.Errorf("event %d starts %v (%v), want %v", i, start.UTC(), err, wantUTC[i])
		}
	}
}

func TestCalendarEmpty(t *testing.T) {
	data, err := Calendar(testCell, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cal.Events()); n != 0 {
		t.Errorf("%d events", n)
	}
}

// TestCalendarHostileText gives the cell's name, a meeting's title, place and
// agenda text built to break the file: bare carriage returns, line breaks
// followed by properties, control characters, TEXT's special characters, long
// lines of multi-byte letters, bytes that are not UTF-8. The file stays RFC
// 5545: CRLF lines of at most 75 octets, folded between characters, no
// control characters, every ; , and \ in a TEXT value escaped, no property or
// component beyond the event's own; and each value reads back as the text
// without its control characters.
func TestCalendarHostileText(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"bare carriage return", "Phòng họp\rBEGIN:VEVENT", "Phòng họpBEGIN:VEVENT"},
		{"CRLF then a property", "Phòng họp\r\nATTENDEE:mailto:x@example.com", "Phòng họp\nATTENDEE:mailto:x@example.com"},
		{"LF then the end of the event", "Tầng 2\nEND:VEVENT\nBEGIN:VEVENT", "Tầng 2\nEND:VEVENT\nBEGIN:VEVENT"},
		{"TEXT's special characters", `a;b,c\d\n:e"f`, `a;b,c\d\n:e"f`},
		{"control characters", "a\x00b\x1bc\x7fd\te\vf\x0cg", "abcd\tefg"},
		{"long words", strings.Repeat("Nghị quyết Đại hội XIV; ", 20), strings.Repeat("Nghị quyết Đại hội XIV; ", 20)},
		{"long without spaces", strings.Repeat("Đường", 60), strings.Repeat("Đường", 60)},
		{"angle brackets", strings.Repeat("<b>ộ</b>", 30), strings.Repeat("<b>ộ</b>", 30)},
		{"backslashes", strings.Repeat(`\`, 100), strings.Repeat(`\`, 100)},
		{"not UTF-8", "a\xffb", "a\uFFFDb"},
	}
	now := at(1, 6, 9, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCell
			c.Name = "Chi bộ " + tt.text
			m := cell.Meeting{ID: 1, CellID: c.ID, Kind: cell.KindTopical, Start: at(3, 6, 14, 0).UTC(), State: cell.StateScheduled,
				Title: tt.text, Place: tt.text, Agenda: []string{tt.text, "Ý kiến"}}
			data, err := Calendar(c, []cell.Meeting{m}, now)
			if err != nil {
				t.Fatal(err)
			}
			lines := checkContentLines(t, data)
			var events, alarms int
			props := map[string]string{}
			for _, l := range lines {
				name, value, _ := strings.Cut(l, ":")
				name, _, _ = strings.Cut(name, ";")
				switch {
				case l == "BEGIN:VEVENT":
					events++
				case l == "BEGIN:VALARM":
					alarms++
				case name == "BEGIN" || name == "END":
					continue
				}
				if !slices.Contains([]string{"BEGIN", "END", "PRODID", "VERSION", "METHOD", "X-WR-CALNAME", "X-WR-TIMEZONE",
					"TZID", "DTSTART", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME", "UID", "DTSTAMP", "SEQUENCE", "DTEND",
					"SUMMARY", "LOCATION", "DESCRIPTION", "STATUS", "ACTION", "TRIGGER"}, name) {
					t.Errorf("unexpected property %q", l)
				}
				if _, seen := props[name]; !seen {
					props[name] = value
				}
			}
			if events != 1 || alarms != 1 {
				t.Errorf("%d events and %d alarms, want 1 and 1", events, alarms)
			}
			want := map[string]string{
				"X-WR-CALNAME": "Chi bộ " + tt.want,
				"SUMMARY":      "Sinh hoạt chuyên đề: " + tt.want + " · Chi bộ " + tt.want,
				"LOCATION":     tt.want,
				"DESCRIPTION":  tt.want + "\nÝ kiến",
			}
			for p, w := range want {
				if got := unescapeText(t, props[p]); got != w {
					t.Errorf("%s reads back as %q, want %q", p, got, w)
				}
			}
			cal, err := ics.ParseCalendar(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("the library does not parse it: %v", err)
			}
			if n := len(cal.Events()); n != 1 {
				t.Errorf("the library reads %d events", n)
			}
		})
	}
}

// checkContentLines checks data's physical lines against RFC 5545 (CRLF ends,
// at most 75 octets, whole UTF-8 characters, no control characters but HTAB)
// and returns the content lines, unfolded.
func checkContentLines(t *testing.T, data []byte) []string {
	t.Helper()
	s := string(data)
	if !strings.HasSuffix(s, "\r\n") {
		t.Error("the file does not end in CRLF")
	}
	var out []string
	for i, l := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line %d has %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d is not whole UTF-8 (folded inside a character?): %q", i+1, l)
		}
		if strings.ContainsFunc(l, func(r rune) bool { return r != '\t' && (r < 0x20 || r == 0x7f) }) {
			t.Errorf("line %d has a control character: %q", i+1, l)
		}
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			if len(out) == 0 {
				t.Fatal("the file starts with a continuation line")
			}
			out[len(out)-1] += l[1:]
			continue
		}
		out = append(out, l)
	}
	return out
}

// unescapeText reads an RFC 5545 TEXT value, failing on a ; or , left
// unescaped or on an escape the RFC does not define.
func unescapeText(t *testing.T, v string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ';', ',':
			t.Errorf("TEXT value with an unescaped %q: %q", c, v)
		case '\\':
			i++
			if i == len(v) {
				t.Errorf("TEXT value ends in a lone backslash: %q", v)
				return b.String()
			}
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			case '\\', ';', ',':
				b.WriteByte(v[i])
			default:
				t.Errorf("TEXT value with the escape \\%c: %q", v[i], v)
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
