// Notices and reminders: the fan-out of a due item to the members, and
// what each expected member's reminder came to.

package scheduler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Purposes of the members' reminders in the delivery queue.
const (
	PurposeReminder     = "reminder"
	PurposeLateReminder = "late reminder"
)

// Outcomes of cellbot_reminders_total: each expected member of a round is
// counted under one.
const (
	OutcomeSent        = "sent"
	OutcomeLate        = "late"
	OutcomeUnreachable = "unreachable"
	OutcomeFailed      = "failed"
	OutcomeDropped     = "dropped"
	OutcomeSuperseded  = "superseded"
	OutcomeExcused     = "excused"
	OutcomeOffline     = "offline"
)

// Delivered follows up a message of the scheduler that delivery ended,
// whichever process queued it (delivery.SenderParams.Completed): a member's
// reminder is counted, and a group notice Telegram refused is reported.
func (s *Scheduler) Delivered(ctx context.Context, id, purpose string, result storage.QueueResult) {
	if purpose == PurposeGroupNotice && result == storage.ResultFailed {
		s.groupRefused(ctx, id)
		return
	}
	if purpose != PurposeReminder && purpose != PurposeLateReminder || result == storage.ResultSkipped {
		return // a skipped reminder was counted by Wanted
	}
	outcome := OutcomeFailed
	switch {
	case result == storage.ResultSent && purpose == PurposeLateReminder:
		outcome = OutcomeLate
	case result == storage.ResultSent:
		outcome = OutcomeSent
	case result == storage.ResultUnreachable:
		outcome = OutcomeUnreachable
	}
	s.metrics.reminders.WithLabelValues(outcome).Inc()
}

// notice sends a meeting's notice to the group and to every member who gets
// notices (exempt and away members too), with the RSVP buttons.
func (s *Scheduler) notice(ctx context.Context, d storage.DueItem) error {
	m, ok, err := s.meetingFor(ctx, d)
	if err != nil || !ok {
		return err
	}
	now := s.p.Now()
	if !now.Before(m.Start) {
		s.log.Warn("scheduler: notice dropped: the meeting has started", "cell", d.CellID, "meeting", m.ID)
		return nil
	}
	cd, err := s.load(ctx, d.CellID)
	if err != nil {
		return err
	}
	var notBefore time.Time
	if until, quiet := cd.cell.Quiet.Until(now.In(cd.loc)); quiet {
		notBefore = until
	}
	id := fmt.Sprintf("notice:%d:%d:%d", d.CellID, m.ID, m.Version)
	var msgs []delivery.Message
	var notified []int64
	for _, mem := range cd.roster {
		if mem.UserID == 0 || !mem.GetsNotices(m.Start.In(cd.loc)) {
			continue
		}
		lang := cd.lang(mem)
		notified = append(notified, mem.ID)
		msgs = append(msgs, delivery.Message{
			ID:        fmt.Sprintf("%s:%d", id, mem.ID),
			To:        storage.QueueRecipient{CellID: d.CellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:     append(delivery.TextParts(mem.UserID, []string{NoticeText(lang, cd.cell, m)}, RSVPKeyboard(lang, d.CellID, m.ID)), DocumentParts(mem.UserID, m)...),
			Purpose:   "notice",
			Priority:  storage.PriorityBulk,
			NotBefore: notBefore,
		})
	}
	if cd.cell.ChatID != 0 {
		at := now
		if !notBefore.IsZero() {
			at = notBefore
		}
		if err := s.p.Store.ScheduleDue(ctx, storage.DueItem{Kind: storage.DueGroup, CellID: d.CellID, MeetingID: m.ID, Version: m.Version, At: at}); err != nil {
			return err
		}
	}
	// Recorded first: whoever the notice is queued for hears of a move.
	if err := s.p.Store.AddNotified(ctx, d.CellID, m.ID, notified); err != nil {
		return err
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue the notice of meeting %d: %w", m.ID, err)
	}
	s.metrics.notices.Inc()
	s.log.Info("scheduler: notice queued", "cell", d.CellID, "meeting", m.ID, "recipients", len(msgs))
	return nil
}

// remind sends one reminder of a meeting to its expected members who have not
// asked to be excused; a second item (remindPost) then posts the counts to the
// group and, at the last lead, tells the committee who has not answered. A
// round the planner moved ahead (planWaves) spreads its members' reminders
// over its planned window; any other goes at once.
func (s *Scheduler) remind(ctx context.Context, d storage.DueItem) error {
	s.probe(ProbeRemindClaimed, d)
	m, ok, err := s.meetingFor(ctx, d)
	if err != nil || !ok {
		return err
	}
	now := s.p.Now()
	lead := time.Duration(d.Arg) * time.Second
	log := s.log.With("cell", d.CellID, "meeting", m.ID, "lead", FormatLead(lead))
	cd, err := s.load(ctx, d.CellID)
	if err != nil {
		return err
	}
	day := m.Start.In(cd.loc)
	// Every expected member of a round is counted once under one outcome, so
	// that the counts add up to the expected members and a loss shows.
	expected := func() int {
		n := 0
		for _, mem := range cd.roster {
			if mem.Expected(day) {
				n++
			}
		}
		return n
	}
	if !now.Before(m.Start) {
		log.Warn("scheduler: reminder dropped: the meeting has started", "due", d.At, "late_by", now.Sub(d.At).String())
		s.metrics.reminders.WithLabelValues(OutcomeDropped).Add(float64(expected()))
		return nil
	}
	leads := cd.leads()
	// When several leads were missed, only the latest of them is sent.
	for _, l := range leads {
		if l < lead && !ReminderDue(m.Start, l, cd.cell.Quiet, cd.loc).After(now) {
			log.Info("scheduler: reminder superseded by a later one also due")
			s.metrics.reminders.WithLabelValues(OutcomeSuperseded).Add(float64(expected()))
			return nil
		}
	}
	plan, planned, err := s.p.Store.PlannedRound(ctx, d)
	if err != nil {
		return err
	}
	due, textAt := d.At, now
	if planned {
		// The item runs ahead of its due time; the text speaks of the day as
		// the member reads it, by the end of the window.
		due, textAt = ReminderDue(m.Start, lead, cd.cell.Quiet, cd.loc), later(plan.End, now)
	}
	late := now.Sub(due) > time.Minute
	answers, err := s.p.Store.Answers(ctx, d.CellID, m.ID)
	if err != nil {
		return err
	}
	id := roundID(d, m.Version)
	purpose := PurposeReminder
	if late {
		purpose = PurposeLateReminder
	}
	var reminded []cell.Member
	var excused, offline int
	for _, mem := range cd.roster {
		switch {
		case !mem.Expected(day):
			continue
		case answers[mem.ID].Kind == cell.Excused:
			excused++
			continue
		case mem.UserID == 0:
			offline++
			continue
		}
		reminded = append(reminded, mem)
	}
	after := make([]time.Duration, len(reminded))
	if planned {
		after = releases(len(reminded), now, plan, roundPhase(id), cd.cell.Quiet, cd.loc)
	}
	byLang := map[string][]storage.WaveMessage{}
	for i, mem := range reminded {
		lang := cd.lang(mem)
		byLang[lang] = append(byLang[lang], storage.WaveMessage{MemberID: mem.ID, ChatID: mem.UserID, After: after[i]})
	}
	added := 0
	for _, lang := range slices.Sorted(maps.Keys(byLang)) {
		n, err := s.p.Delivery.EnqueueWave(ctx, delivery.WaveTemplate{
			ID:      waveID(id, lang),
			CellID:  d.CellID,
			Purpose: purpose,
			Parts:   delivery.TextParts(0, []string{ReminderText(lang, cd.cell, m, textAt, late)}, RSVPKeyboard(lang, d.CellID, m.ID)),
		}, byLang[lang])
		added += n
		if err != nil {
			return fmt.Errorf("scheduler: queue reminder %s: %w", id, err)
		}
	}
	// Those not reminded are counted by the process that first queued the
	// round (or by each, when nobody is to be reminded); the reminded ones as
	// delivery ends them (Delivered, Wanted).
	if added > 0 || len(reminded) == 0 {
		s.metrics.reminders.WithLabelValues(OutcomeExcused).Add(float64(excused))
		s.metrics.reminders.WithLabelValues(OutcomeOffline).Add(float64(offline))
	}
	s.probe(ProbeRemindMembers, d)
	// The members' reminders are queued first, then the item that posts the
	// counts: a process that dies between the two leaves this item leased, and
	// whoever takes it over queues both again, what was queued being left alone.
	post := storage.DueItem{Kind: storage.DueRemindPost, CellID: d.CellID, MeetingID: d.MeetingID, Arg: d.Arg, Version: d.Version, At: now}
	if planned {
		post.At = later(plan.End, now)
	}
	if err := s.p.Store.ScheduleDue(ctx, post); err != nil {
		return err
	}
	if planned {
		if err := s.p.Store.ForgetPlan(ctx, d); err != nil {
			return err
		}
	}
	if len(after) > 0 {
		log = log.With("from", now.Add(slices.Min(after)), "to", now.Add(slices.Max(after)))
	}
	log.Info("scheduler: reminder queued", "recipients", len(reminded), "late", late)
	return nil
}

// remindPost posts a reminder round's counts to the group and, at the last
// lead, tells the committee who has not answered, with the answers of now.
// They go as bulk: when many rounds end together, after the members'
// reminders, which are on time only if nothing urgent crowds the end of their
// window.
func (s *Scheduler) remindPost(ctx context.Context, d storage.DueItem) error {
	m, ok, err := s.meetingFor(ctx, d)
	if err != nil || !ok {
		return err
	}
	if !s.p.Now().Before(m.Start) {
		s.log.Warn("scheduler: reminder counts dropped: the meeting has started", "cell", d.CellID, "meeting", m.ID)
		return nil
	}
	cd, err := s.load(ctx, d.CellID)
	if err != nil {
		return err
	}
	answers, err := s.p.Store.Answers(ctx, d.CellID, m.ID)
	if err != nil {
		return err
	}
	counts, silent := cell.Tally(cd.roster, answers, m.Start.In(cd.loc))
	id := roundID(d, m.Version)
	var msgs []delivery.Message
	if cd.cell.ChatID != 0 {
		lang := cd.groupLang()
		msgs = append(msgs, delivery.Message{
			ID:       id + ":group",
			To:       storage.QueueRecipient{CellID: d.CellID, ChatID: cd.cell.ChatID},
			Parts:    delivery.TextParts(cd.cell.ChatID, []string{CountsText(lang, cd.cell, m, counts)}, nil),
			Purpose:  "reminder counts",
			Priority: storage.PriorityBulk,
		})
	}
	if time.Duration(d.Arg)*time.Second == slices.Min(cd.leads()) {
		msgs = append(msgs, s.silentReport(cd, m, id, silent)...)
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue reminder %s: %w", id, err)
	}
	return nil
}

// silentReport tells the committee, privately, who has not answered: names are
// for the committee only (privacy: members see counts).
func (s *Scheduler) silentReport(cd cellData, m cell.Meeting, id string, silent []cell.Member) []delivery.Message {
	var msgs []delivery.Message
	for _, mem := range cd.roster {
		if !mem.Role.IsCommittee() || mem.UserID == 0 {
			continue
		}
		lang := cd.lang(mem)
		text := texts.T(lang, texts.MeetingAllAnswered, When(lang, cd.cell, m))
		if len(silent) > 0 {
			names := make([]string, len(silent))
			for i, sm := range silent {
				names[i] = "• " + texts.Escape(sm.Name)
			}
			text = texts.T(lang, texts.MeetingNoAnswer, When(lang, cd.cell, m), len(silent), strings.Join(names, "\n"))
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:committee:%d", id, mem.ID),
			To:       storage.QueueRecipient{CellID: cd.cell.ID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, delivery.Split(text, delivery.MaxText), nil),
			Purpose:  "committee notice",
			Priority: storage.PriorityBulk,
		})
	}
	return msgs
}

// quarter warns the committee when the quarter is two weeks from its end with no
// topical meeting held or planned.
func (s *Scheduler) quarter(ctx context.Context, d storage.DueItem) error {
	cd, err := s.load(ctx, d.CellID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	q := cell.Quarter{Year: int(d.Arg / 10), Q: int(d.Arg % 10)}
	ms, err := s.p.Store.Meetings(ctx, d.CellID, q.Start(cd.loc), q.End(cd.loc))
	if err != nil {
		return err
	}
	// The rule is cell's, judged within the quarter's last two weeks whenever
	// the item runs (early, or late after downtime).
	at := s.p.Now()
	if w := q.TopicalWarnFrom(cd.loc); at.Before(w) {
		at = w
	}
	if end := q.End(cd.loc); !at.Before(end) {
		at = end.Add(-time.Nanosecond)
	}
	if !cell.TopicalMissing(at, ms, cd.loc) {
		return nil
	}
	var msgs []delivery.Message
	for _, mem := range cd.roster {
		if !mem.Role.IsCommittee() || mem.UserID == 0 {
			continue
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("quarter:%d:%d:%d", d.CellID, d.Arg, mem.ID),
			To:       storage.QueueRecipient{CellID: d.CellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, []string{texts.T(cd.lang(mem), texts.QuarterNoTopical, texts.QuarterNumeral(cd.lang(mem), q.Q), q.Year)}, nil),
			Purpose:  "committee notice",
			Priority: storage.PriorityUrgent,
		})
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue the quarter warning: %w", err)
	}
	return nil
}
