package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

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
