package bot

import (
	"errors"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/report"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/scheduler"
)

// reportData loads a period's meetings with their summaries, worked out from the
// stored answers and presence, for the report package.
func (b *Bot) reportData(r *request, p report.Period) (report.Data, error) {
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return report.Data{}, err
	}
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return report.Data{}, err
	}
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, p.Start, p.End)
	if err != nil {
		return report.Data{}, err
	}
	loc := r.location()
	d := report.Data{Cell: *r.cell, Period: p, Roster: roster}
	for _, m := range ms {
		if m.State == cell.StateCancelled {
			continue
		}
		answers, err := b.p.Store.Answers(r.ctx, r.cell.ID, m.ID)
		if err != nil {
			return report.Data{}, err
		}
		pres, err := b.p.Store.Presences(r.ctx, r.cell.ID, m.ID)
		if err != nil {
			return report.Data{}, err
		}
		as, ps := recordLists(answers, pres)
		// A closed meeting keeps whoever it recorded, even a member who
		// left since from an earlier date.
		of := roster
		if m.State == cell.StateClosed {
			recorded, err := b.p.Store.Outcomes(r.ctx, r.cell.ID, m.ID)
			if err != nil {
				return report.Data{}, err
			}
			of = cell.WithRecord(roster, recorded)
			// Corrections made after /close stand in the report and export.
			cs, err := b.p.Store.Corrections(r.ctx, r.cell.ID, m.ID)
			if err != nil {
				return report.Data{}, err
			}
			as, ps = cell.Correct(as, ps, cs)
		}
		d.Meetings = append(d.Meetings, report.Meeting{
			Meeting: m,
			Answers: as,
			Summary: cell.Summarize(m.Start.In(loc), of, as, ps, m.Guests, sched.Target),
		})
	}
	return d, nil
}

// report is /report [quarter|year]: the figures by meeting and by member, and the
// chart of the attendance rate.
func (b *Bot) report(r *request) error {
	loc := r.location()
	p, err := report.ParsePeriod(r.args, b.p.Now(), loc)
	if err != nil {
		return err
	}
	d, err := b.reportData(r, p)
	if err != nil {
		return err
	}
	f := report.Compute(d)
	for _, part := range report.Text(r.lang, f) {
		r.reply(part)
	}
	png, err := report.Chart(r.lang, f)
	if errors.Is(err, report.ErrNoMeetings) {
		return nil
	}
	if err != nil {
		return err
	}
	return b.upload(r, "sendPhoto", "photo", report.FileName(f, ".png"), png, report.Caption(r.lang, f))
}

// upload sends a new file to the chat the command came from.
func (b *Bot) upload(r *request, method, field, name string, data []byte, caption string) error {
	err := b.p.Telegram.Do(r.ctx, telegram.Upload{Name: method, ChatID: r.chat.ID, Field: field, FileName: name, Data: data, Caption: caption}, nil)
	if err != nil {
		r.log.Warn("upload", "method", method, "err", err)
		return err
	}
	return nil
}

// history is /history: the member's own answers and attendance this year.
func (b *Bot) history(r *request) error {
	if r.member == nil {
		return texts.Errorf(texts.HistoryNotMember)
	}
	loc := r.location()
	d, err := b.reportData(r, report.YearPeriod(b.p.Now().In(loc).Year(), loc))
	if err != nil {
		return err
	}
	r.reply(report.MemberHistory(r.lang, d, r.member.ID))
	return nil
}

// export is /export [quarter|year]: the attendance as CSV and XLSX documents (the
// whole year when no period is given).
func (b *Bot) export(r *request) error {
	loc := r.location()
	now := b.p.Now().In(loc)
	p := report.YearPeriod(now.Year(), loc)
	if r.args != "" {
		var err error
		if p, err = report.ParsePeriod(r.args, now, loc); err != nil {
			return err
		}
	}
	d, err := b.reportData(r, p)
	if err != nil {
		return err
	}
	f := report.Compute(d)
	caption := report.ExportCaption(r.lang, f)
	if err := b.upload(r, "sendDocument", "document", report.FileName(f, ".csv"), report.CSV(r.lang, d), caption); err != nil {
		return err
	}
	xlsx, err := report.XLSX(r.lang, d)
	if err != nil {
		return err
	}
	return b.upload(r, "sendDocument", "document", report.FileName(f, ".xlsx"), xlsx, caption)
}

// calendar is /calendar: an .ics file of the meetings to come, with the regular
// meeting's next occurrences that are not planned yet.
func (b *Bot) calendar(r *request) error {
	now := b.p.Now()
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, now, now.AddDate(1, 0, 0))
	if err != nil {
		return err
	}
	var open []cell.Meeting
	planned := map[int64]bool{}
	for _, m := range ms {
		if m.Open() {
			open = append(open, m)
		}
		if !m.Nominal.IsZero() {
			planned[m.Nominal.Unix()] = true
		}
	}
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	if sched.Cron != "" {
		holidays, err := b.p.Store.Holidays(r.ctx, r.cell.ID)
		if err != nil {
			return err
		}
		if rec, err := scheduler.NewRecurrence(sched.Cron, sched.Workday, holidays, r.location()); err == nil {
			t := now
			for range 3 {
				occ, ok := rec.Next(t)
				if !ok {
					break
				}
				t = occ.Start
				if planned[occ.Nominal.Unix()] {
					continue
				}
				// Not planned yet: its id is its nominal time, so the event keeps
				// its UID when it is planned… as far as a phone can tell.
				open = append(open, cell.Meeting{ID: -occ.Nominal.Unix(), CellID: r.cell.ID, Kind: cell.KindRegular,
					Start: occ.Start, Place: sched.Place, State: cell.StateScheduled, Nominal: occ.Nominal})
			}
		}
	}
	if len(open) == 0 {
		return texts.Errorf(texts.MeetingNone)
	}
	ics, err := report.Calendar(*r.cell, open, now)
	if err != nil {
		return err
	}
	caption := r.t(texts.CalendarCaption, texts.Escape(r.cell.Name), len(open))
	return b.upload(r, "sendDocument", "document", "lich-sinh-hoat.ics", ics, caption)
}
