package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

// MeetingLength is how long a meeting is taken to last in the calendar: a
// meeting has a start only, and phones show an event without an end as a
// point.
const MeetingLength = 2 * time.Hour

// AlarmBefore is when the calendar's reminder goes off before a meeting.
const AlarmBefore = 2 * time.Hour

// localFormat is an iCalendar DATE-TIME in local time, used with TZID.
const localFormat = "20060102T150405"

// Calendar is an iCalendar (RFC 5545) file of the cell's meetings to come: one
// VEVENT for each of meetings that is open (scheduled or checking in) and
// starts after now, by start. Recurring meetings are given as the occurrences
// the caller has planned. Each event has a UID stable for the meeting (so a
// re-import updates it, SEQUENCE growing with each /move), DTSTART and DTEND
// (MeetingLength later) in the cell's time zone with a TZID and its VTIMEZONE,
// the kind (and title) and the cell as SUMMARY, the place as LOCATION, the
// agenda as DESCRIPTION, and a display alarm AlarmBefore the start. Words are
// in the cell's language.
func Calendar(c cell.Cell, meetings []cell.Meeting, now time.Time) ([]byte, error) {
	loc := c.Location()
	lang := c.Lang
	var up []cell.Meeting
	for _, m := range meetings {
		if m.Open() && m.Start.After(now) {
			up = append(up, m)
		}
	}
	slices.SortStableFunc(up, func(a, b cell.Meeting) int { return a.Start.Compare(b.Start) })

	cal := ics.NewCalendarFor("cellbot")
	cal.SetProductId("-//cellbot//meetings//" + strings.ToUpper(texts.Lang(lang)))
	cal.SetMethod(ics.MethodPublish)
	name := icsText(c.Name)
	cal.SetXWRCalName(name)
	cal.SetXWRTimezone(loc.String())
	if len(up) > 0 {
		addTimezone(cal, loc, up[0].Start, up[len(up)-1].Start.Add(MeetingLength))
	}
	for _, m := range up {
		e := cal.AddEvent(fmt.Sprintf("cellbot-%d-%d@cellbot", m.CellID, m.ID))
		e.SetDtStampTime(now)
		e.SetSequence(m.Version)
		start := m.Start.In(loc)
		e.SetProperty(ics.ComponentPropertyDtStart, start.Format(localFormat), ics.WithTZID(loc.String()))
		e.SetProperty(ics.ComponentPropertyDtEnd, start.Add(MeetingLength).Format(localFormat), ics.WithTZID(loc.String()))
		summary := kindLong(lang, m.Kind)
		if m.Title != "" {
			summary += ": " + icsText(m.Title)
		}
		if name != "" {
			summary += " · " + name
		}
		e.SetSummary(summary)
		if m.Place != "" {
			e.SetLocation(icsText(m.Place))
		}
		if len(m.Agenda) > 0 {
			e.SetDescription(icsText(strings.Join(m.Agenda, "\n")))
		}
		e.SetStatus(ics.ObjectStatusConfirmed)
		a := e.AddAlarm()
		a.SetAction(ics.ActionDisplay)
		a.SetTrigger(fmt.Sprintf("-PT%dM", int(AlarmBefore/time.Minute)))
		a.SetProperty(ics.ComponentPropertyDescription, texts.T(lang, texts.CalendarAlarm, summary))
	}
	var b strings.Builder
	// RFC 5545 lines end in CRLF; the library's default is the OS's newline.
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("report: write calendar: %w", err)
	}
	return []byte(b.String()), nil
}

// icsText makes user text fit an iCalendar TEXT value. A line break stays
// one (the library writes it as \n, with ; , and \ escaped too); a carriage
// return goes, so a Windows line break becomes a plain one and a bare CR
// cannot end the content line in a reader that takes CR for a line end; the
// other control characters, which RFC 5545 does not allow in TEXT (HTAB
// aside), go too; bytes that are not UTF-8 become U+FFFD.
func icsText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// addTimezone adds the VTIMEZONE that the events' TZID refers to, as RFC 5545
// requires: the offset in force at from, then each change of offset up to to
// (none for Asia/Ho_Chi_Minh, the default), from Go's zone data.
func addTimezone(cal *ics.Calendar, loc *time.Location, from, to time.Time) {
	tz := cal.AddTimezone(loc.String())
	add := func(offFrom, offTo int, name string, dst bool, dtstart string) {
		var obs *ics.ComponentBase
		if dst {
			d := &ics.Daylight{}
			tz.Components = append(tz.Components, d)
			obs = &d.ComponentBase
		} else {
			s := tz.AddStandard()
			obs = &s.ComponentBase
		}
		obs.SetProperty(ics.ComponentPropertyDtStart, dtstart)
		obs.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), offset(offFrom))
		obs.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), offset(offTo))
		obs.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
	}
	t := from.In(loc)
	name, off := t.Zone()
	add(off, off, name, t.IsDST(), "19700101T000000")
	for range 100 { // a few a year; the bound only guards a bad zone
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(to) {
			return
		}
		_, prev := t.Zone()
		t = end.In(loc)
		name, off := t.Zone()
		// An observance's DTSTART is in the local time before it starts.
		add(prev, off, name, t.IsDST(), end.In(time.FixedZone("", prev)).Format(localFormat))
	}
}

// offset is a UTC offset as iCalendar writes it: +0700, -0430.
func offset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec%3600/60)
}
