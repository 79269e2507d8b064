package bot

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// Planner plans meetings' notices and reminders (the scheduler package).
type Planner interface {
	Planned(ctx context.Context, c cell.Cell, m cell.Meeting, made time.Time) error
	Changed(ctx context.Context, old, m cell.Meeting) (int, error)
	Replan(ctx context.Context, cellID int64, version int) error
	RemindersChanged(ctx context.Context, cellID int64, oldLeads []time.Duration) error
}

// location is the cell's time zone; a name that does not load is logged, and
// the default zone used.
func (r *request) location() *time.Location {
	loc, err := time.LoadLocation(r.cell.TimeZone)
	if err != nil {
		r.log.Error("cell time zone does not load", "tz", r.cell.TimeZone, "err", err)
		loc, err = time.LoadLocation(r.b.p.TimeZone)
		if err != nil {
			return time.UTC
		}
	}
	return loc
}

// parseWhen reads "dd/mm/yyyy HH:MM" in loc and refuses a time that has passed.
func (r *request) parseWhen(date, clock string, loc *time.Location) (time.Time, error) {
	day, err := time.ParseInLocation("2/1/2006", date, loc)
	if err != nil {
		return time.Time{}, texts.Errorf(texts.MeetingBadDate, echo(date))
	}
	hm, err := time.Parse("15:04", clock)
	if err != nil {
		if hm, err = time.Parse("15h04", clock); err != nil {
			return time.Time{}, texts.Errorf(texts.MeetingBadTime, echo(clock))
		}
	}
	at := time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
	if !at.After(r.b.p.Now()) {
		return time.Time{}, texts.Errorf(texts.MeetingPast, texts.DateTime(r.lang, at))
	}
	return at, nil
}

// splitPlace cuts "… at <place>" off the arguments: the words before it, and
// the place as it is kept ("" when none was given: the usual place applies).
// A place with nothing readable after "at", or over cell.MaxPlaceLen
// characters, is a user error: it would go into every member's notice.
func splitPlace(words []string) ([]string, string, error) {
	for i, w := range words {
		if strings.EqualFold(w, "at") || strings.EqualFold(w, "tại") {
			place, n, err := cell.Line(strings.Join(words[i+1:], " "), cell.MaxPlaceLen)
			switch {
			case errors.Is(err, cell.ErrUnreadable):
				return nil, "", texts.Errorf(texts.PlaceUnreadable)
			case errors.Is(err, cell.ErrTooLong):
				return nil, "", texts.Errorf(texts.PlaceTooLong, n, cell.MaxPlaceLen)
			}
			return words[:i], place, nil
		}
	}
	return words, "", nil
}

// cutQuoted takes a quoted text ("…" or “…”) out of the arguments: the
// arguments without it, and the text; ok is false when there is no quote.
func cutQuoted(args string) (rest, quoted string, ok bool) {
	open := strings.IndexAny(args, "\"“")
	if open < 0 {
		return args, "", false
	}
	_, size := utf8.DecodeRuneInString(args[open:])
	end := strings.IndexAny(args[open+size:], "\"”")
	if end < 0 {
		return args, "", false
	}
	end += open + size
	_, endSize := utf8.DecodeRuneInString(args[end:])
	return args[:open] + " " + args[end+endSize:], args[open+size : end], true
}

// meeting is /meeting <dd/mm/yyyy> <HH:MM> [topical ["topic"]] [at <place>].
func (b *Bot) meeting(r *request) error {
	args, quoted, hasTopic := cutQuoted(r.args)
	var title string
	if hasTopic {
		var n int
		var err error
		title, n, err = cell.Line(quoted, cell.MaxPlaceLen)
		switch {
		case errors.Is(err, cell.ErrUnreadable):
			return texts.Errorf(texts.TopicUsage)
		case errors.Is(err, cell.ErrTooLong):
			return texts.Errorf(texts.TopicTooLong, n, cell.MaxPlaceLen)
		}
	}
	words, place, err := splitPlace(strings.Fields(args))
	if err != nil {
		return err
	}
	if len(words) < 2 || len(words) > 4 {
		return texts.Errorf(texts.MeetingUsage)
	}
	kind := cell.KindRegular
	if len(words) > 2 {
		// "chuyên đề" is two words as Vietnamese write it, and may come
		// without accents.
		switch cell.Fold(strings.Join(words[2:], " ")) {
		case "topical", "chuyen de", "chuyen-de", "chuyende":
			kind = cell.KindTopical
		default:
			return texts.Errorf(texts.MeetingUsage)
		}
	}
	loc := r.location()
	start, err := r.parseWhen(words[0], words[1], loc)
	if err != nil {
		return err
	}
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	if place == "" {
		place = sched.Place
	}
	made := b.p.Now()
	m, _, err := b.p.Store.CreateMeeting(r.ctx, "upd:"+r.update.Key(), cell.Meeting{
		CellID: r.cell.ID, Kind: kind, Start: start, Place: place, Title: title,
	})
	if err != nil {
		return err
	}
	// The reply goes (or joins the chat's lane) before the notice is planned:
	// the secretary reads "created" before their own copy of the notice.
	r.reply(r.t(texts.MeetingCreated, strings.ToLower(scheduler.KindName(r.lang, kind)), texts.DateTime(r.lang, start.In(loc))))
	// Planned from the moment it was made, whenever planning runs.
	return b.p.Planner.Planned(r.ctx, *r.cell, m, made)
}

// schedule is /schedule <cron> [workday] [at <place>].
func (b *Bot) schedule(r *request) error {
	words, place, err := splitPlace(strings.Fields(r.args))
	if err != nil {
		return err
	}
	if len(words) < 5 {
		if len(words) == 0 {
			return texts.Errorf(texts.ScheduleUsage)
		}
		return texts.Errorf(texts.ScheduleBadCron, echo(strings.Join(words, " ")))
	}
	line := strings.Join(words[:5], " ")
	workday := false
	for _, w := range words[5:] {
		if strings.EqualFold(w, "workday") {
			workday = true
			continue
		}
		return texts.Errorf(texts.ScheduleUsage)
	}
	holidays, err := b.p.Store.Holidays(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	loc := r.location()
	rec, err := scheduler.NewRecurrence(line, workday, holidays, loc)
	switch {
	case errors.Is(err, scheduler.ErrTooOften) && dayAndWeekday(words[2], words[4]):
		return texts.Errorf(texts.ScheduleTooOftenDays, echo(line))
	case errors.Is(err, scheduler.ErrTooOften):
		return texts.Errorf(texts.ScheduleTooOften, echo(line))
	case err != nil:
		return texts.Errorf(texts.ScheduleBadCron, echo(line))
	}
	if place == "" {
		sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
		if err != nil {
			return err
		}
		place = sched.Place
	}
	ver, err := b.p.Store.SetRecurrence(r.ctx, r.cell.ID, line, workday, place)
	if err != nil {
		return err
	}
	if err := b.dropStaleOccurrences(r, rec); err != nil {
		return err
	}
	if err := b.p.Planner.Replan(r.ctx, r.cell.ID, ver); err != nil {
		return err
	}
	next := ""
	if occ, ok := rec.Next(b.p.Now()); ok {
		next = r.t(texts.ScheduleNext, texts.DateTime(r.lang, occ.Start.In(loc)))
	}
	wd := ""
	if workday {
		wd = r.t(texts.ScheduleWorkday)
	}
	r.reply(r.t(texts.ScheduleDone, texts.Escape(line), wd, next))
	return nil
}

// dayAndWeekday reports a cron line that restricts both the day of the month
// and the weekday: cron then meets on either, a common surprise ("1-7 * 4" is
// taken for the first Thursday).
func dayAndWeekday(dom, dow string) bool {
	star := func(f string) bool { return f == "*" || f == "?" }
	return !star(dom) && !star(dow)
}

// dropStaleOccurrences cancels the recurring meetings planned under an earlier
// schedule that the new one does not have, telling whoever got their notice.
func (b *Bot) dropStaleOccurrences(r *request, rec *scheduler.Recurrence) error {
	now := b.p.Now()
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, now, now.AddDate(1, 0, 0))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Nominal.IsZero() || !m.Open() {
			continue
		}
		// Matched on the nominal time: a meeting moved with /move, or a place
		// changed, keeps its meeting.
		if occ, ok := rec.Next(m.Nominal.Add(-time.Second)); ok && occ.Nominal.Equal(m.Nominal) {
			continue
		}
		if m.Adopted {
			// Set by hand before the schedule took it: a one-off again.
			if _, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, m.ID, func(m *cell.Meeting) error {
				m.Nominal, m.Adopted = time.Time{}, false
				return nil
			}); err != nil {
				return err
			}
			continue
		}
		old := m
		m, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, m.ID, func(m *cell.Meeting) error {
			m.State = cell.StateCancelled
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := b.p.Planner.Changed(r.ctx, old, m); err != nil {
			return err
		}
	}
	return nil
}

// holiday is /holiday dd/mm/yyyy.
func (b *Bot) holiday(r *request) error {
	arg := strings.TrimSpace(r.args)
	if arg == "" {
		return texts.Errorf(texts.HolidayUsage)
	}
	day, err := cell.ParseDate(arg)
	if err != nil {
		return texts.Errorf(texts.MeetingBadDate, echo(arg))
	}
	added, err := b.p.Store.AddHoliday(r.ctx, r.cell.ID, day)
	if err != nil {
		return err
	}
	if !added {
		r.reply(r.t(texts.HolidayKnown, cell.FormatDate(day)))
		return nil
	}
	if err := b.replanSchedule(r); err != nil {
		return err
	}
	r.reply(r.t(texts.HolidayDone, cell.FormatDate(day)))
	return nil
}

// replanSchedule plans the cell's recurring meeting anew (after /holiday, or a
// cancelled occurrence), when it has one.
func (b *Bot) replanSchedule(r *request) error {
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil || sched.Cron == "" {
		return err
	}
	return b.p.Planner.Replan(r.ctx, r.cell.ID, sched.Version)
}

// nextMeeting is the cell's next meeting, or a user error saying there is none.
func (b *Bot) nextMeeting(r *request) (cell.Meeting, error) {
	m, err := b.p.Store.NextMeeting(r.ctx, r.cell.ID, b.p.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return cell.Meeting{}, texts.Errorf(texts.MeetingNone)
	}
	return m, err
}

// move is /move <dd/mm/yyyy> <HH:MM>: the next meeting moves, and everyone who got
// its notice is told once.
func (b *Bot) move(r *request) error {
	words := strings.Fields(r.args)
	if len(words) != 2 {
		return texts.Errorf(texts.MeetingMoveUsage)
	}
	loc := r.location()
	start, err := r.parseWhen(words[0], words[1], loc)
	if err != nil {
		return err
	}
	old, err := b.nextMeeting(r)
	if err != nil {
		return err
	}
	m, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, old.ID, func(m *cell.Meeting) error {
		if m.Version != old.Version || !m.Open() {
			return storage.ErrStale
		}
		m.Start, m.Moved = start, true
		m.Version++
		return nil
	})
	if err != nil {
		return err
	}
	n, err := b.p.Planner.Changed(r.ctx, old, m)
	if err != nil {
		return err
	}
	r.reply(r.t(texts.MeetingMovedDone, texts.DateTime(r.lang, start.In(loc)), texts.Count(r.lang, n, texts.CountMember)))
	return nil
}

// cancelMeeting is /cancelmeeting: the next meeting is cancelled, and everyone who
// got its notice is told once.
func (b *Bot) cancelMeeting(r *request) error {
	old, err := b.nextMeeting(r)
	if err != nil {
		return err
	}
	m, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, old.ID, func(m *cell.Meeting) error {
		if m.Version != old.Version || !m.Open() {
			return storage.ErrStale
		}
		m.State = cell.StateCancelled
		return nil
	})
	if err != nil {
		return err
	}
	n, err := b.p.Planner.Changed(r.ctx, old, m)
	if err != nil {
		return err
	}
	if !old.Nominal.IsZero() {
		// The regular meeting after it becomes the next one: plan it now.
		if err := b.replanSchedule(r); err != nil {
			return err
		}
	}
	r.reply(r.t(texts.MeetingCancelledDone, texts.DateTime(r.lang, old.Start.In(r.location())), texts.Count(r.lang, n, texts.CountMember)))
	return nil
}

// meetings is /meetings: the meetings to come, with their RSVP counts.
func (b *Bot) meetings(r *request) error {
	now := b.p.Now()
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, now, now.AddDate(1, 0, 0))
	if err != nil {
		return err
	}
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	loc := r.location()
	var lines []string
	for _, m := range ms {
		if !m.Open() {
			continue
		}
		answers, err := b.p.Store.Answers(r.ctx, r.cell.ID, m.ID)
		if err != nil {
			return err
		}
		counts, _ := cell.Tally(roster, answers, m.Start.In(loc))
		line := r.t(texts.MeetingListItem, texts.DateTime(r.lang, m.Start.In(loc)), scheduler.KindName(r.lang, m.Kind))
		if m.Title != "" {
			line += "\n   " + r.t(texts.MeetingTopic, texts.Escape(m.Title))
		}
		if m.Place != "" {
			line += "\n   " + r.t(texts.MeetingPlace, texts.Escape(m.Place))
		}
		line += "\n" + r.t(texts.MeetingListCounts, counts.Coming, counts.Excused, counts.Unsure)
		lines = append(lines, line)
		if len(lines) == 10 {
			break
		}
	}
	if len(lines) == 0 {
		return texts.Errorf(texts.MeetingNone)
	}
	r.reply(r.t(texts.MeetingList, strings.Join(lines, "\n")))
	return nil
}

// reminders is /reminders <lead>...
func (b *Bot) reminders(r *request) error {
	args := strings.Fields(r.args)
	if len(args) == 0 {
		return texts.Errorf(texts.RemindersUsage)
	}
	leads, err := scheduler.ParseLeads(args)
	if errors.Is(err, scheduler.ErrShortLead) {
		return texts.Errorf(texts.RemindersTooShort)
	}
	if err != nil {
		return texts.Errorf(texts.RemindersUsage)
	}
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	if err := b.p.Store.SetLeads(r.ctx, r.cell.ID, leads); err != nil {
		return err
	}
	if err := b.p.Planner.RemindersChanged(r.ctx, r.cell.ID, sched.Leads); err != nil {
		return err
	}
	r.reply(r.t(texts.RemindersDone, scheduler.FormatLeads(leads)))
	return nil
}

// quiet is /quiet HH:MM-HH:MM, or /quiet off.
func (b *Bot) quiet(r *request) error {
	arg := strings.TrimSpace(r.args)
	var q cell.QuietHours
	switch {
	case strings.EqualFold(arg, "off") || strings.EqualFold(arg, "tắt"):
	default:
		var err error
		if q, err = cell.ParseQuiet(arg); err != nil {
			return texts.Errorf(texts.QuietUsage)
		}
	}
	if err := b.p.Store.SetCellQuiet(r.ctx, r.cell.ID, q); err != nil {
		return err
	}
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	// Reminders due in quiet hours go before they begin: their times move.
	if err := b.p.Planner.RemindersChanged(r.ctx, r.cell.ID, sched.Leads); err != nil {
		return err
	}
	r.reply(r.t(texts.QuietDone, quietText(r, q)))
	return nil
}

func quietText(r *request, q cell.QuietHours) string {
	if q.Start == q.End {
		return r.t(texts.SettingsNoQuiet)
	}
	return q.String()
}

// settings is /settings: the cell's settings at a glance.
func (b *Bot) settings(r *request) error {
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	holidays, err := b.p.Store.Holidays(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	none := r.t(texts.SettingsNoSchedule)
	cron := none
	if sched.Cron != "" {
		cron = "<code>" + texts.Escape(sched.Cron) + "</code>"
		if sched.Workday {
			cron += r.t(texts.ScheduleWorkday)
		}
	}
	place := none
	if sched.Place != "" {
		place = texts.Escape(sched.Place)
	}
	leads := sched.Leads
	if len(leads) == 0 {
		leads = scheduler.DefaultLeads
	}
	days := make([]string, 0, len(holidays))
	for _, d := range holidays {
		days = append(days, cell.FormatDate(d))
	}
	hs := none
	if len(days) > 0 {
		hs = strings.Join(days, ", ")
	}
	target := sched.Target
	if target == 0 {
		target = cell.DefaultTargetPercent
	}
	r.reply(r.t(texts.SettingsShow, texts.Escape(r.cell.Name), texts.Escape(r.cell.TimeZone), r.cell.Lang, cron, place,
		scheduler.FormatLeads(leads), quietText(r, r.cell.Quiet), hs, target))
	return nil
}

// guest is /guest <name>, <title>: a guest on the next meeting.
func (b *Bot) guest(r *request) error {
	rawName, rawTitle, _ := strings.Cut(r.args, ",")
	name, n, err := cell.Line(rawName, cell.MaxNameLen)
	switch {
	case errors.Is(err, cell.ErrUnreadable):
		return texts.Errorf(texts.GuestUsage)
	case errors.Is(err, cell.ErrTooLong):
		return texts.Errorf(texts.GuestNameTooLong, n, cell.MaxNameLen)
	}
	// The title may be left out; it goes into the summary and the minutes.
	title, n, err := cell.Line(rawTitle, cell.MaxPlaceLen)
	if errors.Is(err, cell.ErrTooLong) {
		return texts.Errorf(texts.GuestTitleTooLong, n, cell.MaxPlaceLen)
	}
	// Guests are mostly recorded in the room: the meeting under way (or about
	// to begin) first, else the next one.
	next, ok, _, err := b.currentMeeting(r)
	if err != nil {
		return err
	}
	if !ok {
		if next, err = b.nextMeeting(r); err != nil {
			return err
		}
	}
	_, err = b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, next.ID, func(m *cell.Meeting) error {
		for _, g := range m.Guests {
			if g.Name == name {
				return nil
			}
		}
		m.Guests = append(m.Guests, cell.Guest{Name: name, Title: title})
		return nil
	})
	if err != nil {
		return err
	}
	r.reply(r.t(texts.GuestDone, texts.Escape(name), texts.DateTime(r.lang, next.Start.In(r.location()))))
	return nil
}

// agendaItems is an agenda's text as items, one a line, without numbering the
// secretary typed ("1. ", "2) ", "- ").
func agendaItems(text string) []string {
	var items []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		trimmed := strings.TrimLeft(line, "0123456789")
		if trimmed != line && (strings.HasPrefix(trimmed, ".") || strings.HasPrefix(trimmed, ")")) {
			line = strings.TrimSpace(trimmed[1:])
		}
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "-"), "•"))
		if line != "" {
			items = append(items, line)
		}
	}
	return items
}
