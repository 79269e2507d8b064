// Planning: the due items of a meeting, the occurrences of a recurring
// schedule, and planning anew when a meeting or the cell's settings change.

package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Items returns a new meeting's notice (due at once) and reminders: each lead
// whose time has not passed when the meeting is made (a longer lead is skipped:
// the notice serves), and the quarter's topical check.
func Items(c cell.Cell, quiet cell.QuietHours, leads []time.Duration, m cell.Meeting, now time.Time) []storage.DueItem {
	loc := cellLocation(c)
	at := NoticeAt(m, now)
	items := []storage.DueItem{{Kind: storage.DueNotice, CellID: c.ID, MeetingID: m.ID, Version: m.Version, At: at}}
	// A lead longer than the time left at the notice is skipped: the notice
	// serves.
	items = append(items, reminderItems(c.ID, loc, quiet, leads, m, at)...)
	if q, ok := quarterItem(c.ID, loc, m.Start, now); ok {
		items = append(items, q)
	}
	return items
}

// remindersFrom is the time from which a meeting's reminders are planned: now,
// or, while its notice has not gone (nobody notified), the notice's time, since
// reminders come after it.
func remindersFrom(m cell.Meeting, notified []int64, now time.Time) time.Time {
	if len(notified) == 0 {
		return NoticeAt(m, now)
	}
	return now
}

// NoticeAt is when a meeting's notice goes: at once for a one-off meeting, and
// NoticeLead before a recurring one (at once when that has passed).
func NoticeAt(m cell.Meeting, now time.Time) time.Time {
	if at := m.Start.Add(-NoticeLead); !m.Nominal.IsZero() && at.After(now) {
		return at
	}
	return now
}

func reminderItems(cellID int64, loc *time.Location, quiet cell.QuietHours, leads []time.Duration, m cell.Meeting, now time.Time) []storage.DueItem {
	var items []storage.DueItem
	for _, lead := range leads {
		if !m.Start.Add(-lead).After(now) {
			continue
		}
		at := ReminderDue(m.Start, lead, quiet, loc)
		if at.Before(now) {
			at = now
		}
		items = append(items, storage.DueItem{Kind: storage.DueRemind, CellID: cellID, MeetingID: m.ID, Arg: int64(lead / time.Second), Version: m.Version, At: at})
	}
	return items
}

// ReminderItems are the reminder items of a meeting, for unscheduling them when it
// moves or is cancelled.
func ReminderItems(c cell.Cell, quiet cell.QuietHours, leads []time.Duration, m cell.Meeting) []storage.DueItem {
	var items []storage.DueItem
	for _, lead := range leads {
		items = append(items, storage.DueItem{Kind: storage.DueRemind, CellID: c.ID, MeetingID: m.ID, Arg: int64(lead / time.Second), Version: m.Version})
	}
	return items
}

// quarterItem is the topical-meeting check of the quarter of t, due when
// cell.Quarter.TopicalWarnFrom says (at once when that has passed but the
// quarter has not).
func quarterItem(cellID int64, loc *time.Location, t, now time.Time) (storage.DueItem, bool) {
	q := cell.QuarterOf(t, loc)
	if !now.Before(q.End(loc)) {
		return storage.DueItem{}, false
	}
	at := q.TopicalWarnFrom(loc)
	if at.Before(now) {
		at = now
	}
	return storage.DueItem{Kind: storage.DueQuarter, CellID: cellID, Arg: int64(q.Year*10 + q.Q), At: at}, true
}

// Planned schedules the items of a meeting made at made (a lead longer than
// the time left then is skipped), and wakes the loop.
func (s *Scheduler) Planned(ctx context.Context, c cell.Cell, m cell.Meeting, made time.Time) error {
	sched, err := s.p.Store.Schedule(ctx, c.ID)
	if err != nil {
		return err
	}
	leads := sched.Leads
	if len(leads) == 0 {
		leads = DefaultLeads
	}
	if err := s.p.Store.ScheduleDue(ctx, Items(c, c.Quiet, leads, m, made)...); err != nil {
		return err
	}
	s.Wake()
	return nil
}

// plan materialises the cell's recurring meetings: those whose notice is due (7
// days before) and the next one after them, so that /meetings, /rsvp, /agenda
// and /move see the next meeting as soon as there is a schedule; its notice waits
// for its time (Items). The item comes back when that notice is due, for the one
// after.
func (s *Scheduler) plan(ctx context.Context, d storage.DueItem) error {
	next, err := s.planCell(ctx, d.CellID, d.Version)
	if err != nil {
		return err
	}
	if err := s.p.Store.AckDue(ctx, d); err != nil {
		return err
	}
	if next.IsZero() {
		return nil
	}
	d.At = next
	return s.p.Store.RescheduleDue(ctx, d)
}

// planCell does plan's work for the schedule's version, and returns when to
// plan again (zero: never, the schedule changed or ended).
func (s *Scheduler) planCell(ctx context.Context, cellID int64, version int) (time.Time, error) {
	cd, err := s.load(ctx, cellID)
	if errors.Is(err, storage.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if cd.sched.Cron == "" || cd.sched.Version != version {
		return time.Time{}, nil // a later /schedule planned its own
	}
	holidays, err := s.p.Store.Holidays(ctx, cellID)
	if err != nil {
		return time.Time{}, err
	}
	rec, err := NewRecurrence(cd.sched.Cron, cd.sched.Workday, holidays, cd.loc)
	if err != nil {
		s.log.Error("scheduler: stored cron line does not parse; planning stops", "cell", cellID, "err", err)
		return time.Time{}, nil
	}
	now := s.p.Now()
	// The occurrences planned already, by their nominal time: a holiday may
	// have moved one since.
	planned, err := s.p.Store.Meetings(ctx, cellID, now.Add(-NoticeLead), now.AddDate(2, 0, 0))
	if err != nil {
		return time.Time{}, err
	}
	byNominal := make(map[int64]cell.Meeting, len(planned))
	oneOff := make(map[int64]cell.Meeting)
	for _, m := range planned {
		switch {
		case !m.Nominal.IsZero():
			byNominal[m.Nominal.Unix()] = m
		case m.Open() && m.Kind == cell.KindRegular:
			oneOff[m.Start.Unix()] = m
		}
	}
	t := now
	for range 12 {
		occ, ok := rec.Next(t)
		if !ok {
			return time.Time{}, nil
		}
		open, err := s.occurrence(ctx, cd, byNominal, oneOff, occ, now)
		if err != nil {
			return time.Time{}, err
		}
		// A cancelled occurrence is no "next meeting": the one after it is.
		if at := occ.Start.Add(-NoticeLead); at.After(now) && open {
			return at, nil
		}
		t = occ.Start
	}
	return time.Time{}, nil
}

// adopt makes the meeting o, set by hand at occ's time, that occurrence of the
// schedule. It reports false when o changed meanwhile (cancelled, or another
// occurrence's).
func (s *Scheduler) adopt(ctx context.Context, o cell.Meeting, occ Occurrence) (cell.Meeting, bool, error) {
	m, err := s.p.Store.UpdateMeeting(ctx, o.CellID, o.ID, func(x *cell.Meeting) error {
		if !x.Open() || !x.Nominal.IsZero() && !x.Nominal.Equal(occ.Nominal) {
			return storage.ErrStale
		}
		x.Nominal, x.Moved, x.Adopted = occ.Nominal, true, true
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrStale):
		return cell.Meeting{}, false, nil
	case err != nil:
		return cell.Meeting{}, false, err
	}
	s.log.Info("scheduler: a meeting set by hand is the schedule's occurrence", "cell", m.CellID, "meeting", m.ID, "start", m.Start)
	return m, true, nil
}

// occurrence makes sure one occurrence of the schedule is a meeting with its
// items: created when new, moved (whoever got its notice told) when a holiday
// or workday shift moved it and the committee had not moved it by hand. It
// reports whether the meeting is open (not cancelled or closed). A regular
// meeting the committee set by hand (/meeting) at the occurrence's time is
// that occurrence: it is adopted, not doubled, so that nobody gets two notices
// of one meeting.
func (s *Scheduler) occurrence(ctx context.Context, cd cellData, byNominal, oneOff map[int64]cell.Meeting, occ Occurrence, now time.Time) (bool, error) {
	m, found := byNominal[occ.Nominal.Unix()]
	if o, ok := oneOff[occ.Start.Unix()]; ok && !found {
		var err error
		if m, found, err = s.adopt(ctx, o, occ); err != nil {
			return false, err
		}
	}
	switch {
	case !found:
		m = cell.Meeting{CellID: cd.cell.ID, Kind: cell.KindRegular, Start: occ.Start, Place: cd.sched.Place, Nominal: occ.Nominal}
		origin := fmt.Sprintf("occ:%d:%d", occ.Nominal.Unix(), occ.Start.Unix())
		var created bool
		var err error
		m, created, err = s.p.Store.CreateMeeting(ctx, origin, m)
		if err != nil {
			return false, err
		}
		if created {
			s.log.Info("scheduler: recurring meeting planned", "cell", cd.cell.ID, "meeting", m.ID, "start", m.Start)
		}
	case m.Open() && !m.Moved && !m.Start.Equal(occ.Start):
		old := m
		moved, err := s.p.Store.UpdateMeeting(ctx, cd.cell.ID, m.ID, func(m *cell.Meeting) error {
			if m.Version != old.Version || !m.Open() || m.Moved {
				return storage.ErrStale
			}
			m.Start = occ.Start
			m.Version++
			return nil
		})
		if errors.Is(err, storage.ErrStale) {
			return true, nil // moved or closed meanwhile: that change stands
		}
		if err != nil {
			return false, err
		}
		s.log.Info("scheduler: recurring meeting moved by the schedule", "cell", cd.cell.ID, "meeting", m.ID, "from", old.Start, "to", moved.Start)
		_, err = s.Changed(ctx, old, moved)
		return true, err
	}
	if !m.Open() {
		return false, nil
	}
	if found {
		// Planned before: its items are due already, unless planning stopped
		// between the meeting and its items; once its notice went, a notice
		// item under a later version would announce it twice.
		notified, err := s.p.Store.Notified(ctx, cd.cell.ID, m.ID)
		if err != nil || len(notified) > 0 {
			return true, err
		}
		// Not announced yet: it takes the schedule's place, if /schedule
		// changed it since.
		if place := cd.sched.Place; place != "" && m.Place != place && !m.Moved {
			if m, err = s.p.Store.UpdateMeeting(ctx, cd.cell.ID, m.ID, func(x *cell.Meeting) error {
				x.Place = place
				return nil
			}); err != nil {
				return true, err
			}
		}
	}
	return true, s.p.Store.ScheduleDue(ctx, Items(cd.cell, cd.cell.Quiet, cd.leads(), m, now)...)
}

// Changed tells everyone who got a meeting's notice that it moved (m is the
// meeting as it is now, from its old start) or was cancelled, once each, and
// replaces its pending reminders.
func (s *Scheduler) Changed(ctx context.Context, old, m cell.Meeting) (int, error) {
	cd, err := s.load(ctx, m.CellID)
	if err != nil {
		return 0, err
	}
	if err := s.p.Store.UnscheduleDue(ctx, ReminderItems(cd.cell, cd.cell.Quiet, cd.leads(), old)...); err != nil {
		return 0, err
	}
	if err := s.p.Store.UnscheduleDue(ctx, storage.DueItem{Kind: storage.DueNotice, CellID: m.CellID, MeetingID: m.ID, Version: old.Version}); err != nil {
		return 0, err
	}
	now := s.p.Now()
	notified, err := s.p.Store.Notified(ctx, m.CellID, m.ID)
	if err != nil {
		return 0, err
	}
	from := remindersFrom(m, notified, now)
	if m.Open() {
		items := reminderItems(m.CellID, cd.loc, cd.cell.Quiet, cd.leads(), m, from)
		if err := s.p.Store.ScheduleDue(ctx, items...); err != nil {
			return 0, err
		}
	}
	// The group's notice shows the new time, or that the meeting is cancelled.
	if err := s.p.Store.MarkCounts(ctx, m.CellID, m.ID); err != nil {
		return 0, err
	}
	if len(notified) == 0 && m.Open() {
		// The notice had not gone yet: it goes at its time, with the new one.
		return 0, s.p.Store.ScheduleDue(ctx, storage.DueItem{Kind: storage.DueNotice, CellID: m.CellID, MeetingID: m.ID, Version: m.Version, At: from})
	}
	byID := make(map[int64]cell.Member, len(cd.roster))
	for _, mem := range cd.roster {
		byID[mem.ID] = mem
	}
	var msgs []delivery.Message
	for _, id := range notified {
		mem, ok := byID[id]
		if !ok || mem.UserID == 0 {
			continue
		}
		lang := cd.lang(mem)
		var text, msgID string
		var kb = RSVPKeyboard(lang, m.CellID, m.ID)
		if m.State == cell.StateCancelled {
			msgID = fmt.Sprintf("cancel:%d:%d:%d", m.CellID, m.ID, mem.ID)
			text = texts.T(lang, texts.MeetingCancelled, texts.Escape(cd.cell.Name), strings.ToLower(KindName(lang, old.Kind)), When(lang, cd.cell, old))
			kb = nil
		} else {
			msgID = fmt.Sprintf("moved:%d:%d:%d:%d", m.CellID, m.ID, m.Version, mem.ID)
			text = texts.T(lang, texts.MeetingMoved, texts.Escape(cd.cell.Name), When(lang, cd.cell, old), When(lang, cd.cell, m)) + details(lang, m)
		}
		msgs = append(msgs, delivery.Message{
			ID:       msgID,
			To:       storage.QueueRecipient{CellID: m.CellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, []string{text}, kb),
			Purpose:  "meeting change",
			Priority: storage.PriorityUrgent,
		})
	}
	n, err := s.p.Delivery.Enqueue(ctx, msgs...)
	if err != nil {
		return 0, fmt.Errorf("scheduler: queue the change of meeting %d: %w", m.ID, err)
	}
	_ = n
	return len(msgs), nil
}

// RemindersChanged plans anew the reminders of the cell's meetings to come after
// /reminders or /quiet: those of the leads it had (oldLeads) are dropped, and
// those of its leads now are planned, but for the leads whose time has passed
// (a reminder that went already has its message id, and does not go twice).
func (s *Scheduler) RemindersChanged(ctx context.Context, cellID int64, oldLeads []time.Duration) error {
	cd, err := s.load(ctx, cellID)
	if err != nil {
		return err
	}
	if len(oldLeads) == 0 {
		oldLeads = DefaultLeads
	}
	now := s.p.Now()
	ms, err := s.p.Store.Meetings(ctx, cellID, now, now.AddDate(2, 0, 0))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !m.Open() {
			continue
		}
		if err := s.p.Store.UnscheduleDue(ctx, ReminderItems(cd.cell, cd.cell.Quiet, oldLeads, m)...); err != nil {
			return err
		}
		notified, err := s.p.Store.Notified(ctx, cellID, m.ID)
		if err != nil {
			return err
		}
		from := remindersFrom(m, notified, now)
		if err := s.p.Store.ScheduleDue(ctx, reminderItems(cellID, cd.loc, cd.cell.Quiet, cd.leads(), m, from)...); err != nil {
			return err
		}
	}
	s.Wake()
	return nil
}

// Replan starts planning the cell's recurring meeting anew after /schedule or
// /holiday: it plans from now under the schedule's version.
func (s *Scheduler) Replan(ctx context.Context, cellID int64, version int) error {
	// Planned at once, so that the command's reply comes after the next
	// meeting exists; the item does it again (it changes nothing then) and
	// keeps planning.
	if _, err := s.planCell(ctx, cellID, version); err != nil {
		s.log.Warn("scheduler: plan after a schedule change; the loop tries again", "cell", cellID, "err", err)
	}
	if err := s.p.Store.RescheduleDue(ctx, storage.DueItem{Kind: storage.DuePlan, CellID: cellID, Version: version, At: s.p.Now()}); err != nil {
		return err
	}
	s.Wake()
	return nil
}
