package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/checkin"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Purpose of the check-in message's edits in the delivery queue.
const PurposeCheckin = "checkin"

// checkinStep replaces the QR and the code of the meeting's open check-in in
// every message showing it, then comes back at the next step. The item is
// one per meeting and claimed by one process at a time, so each step is shown
// once whatever the number of replicas; after downtime the current step is
// shown, not the ones missed. The edits go through the queue: each chat's
// lane keeps them behind the message they edit, and a newer step's edit
// replaces one still waiting (a chat held back by Telegram shows the latest).
func (s *Scheduler) checkinStep(ctx context.Context, d storage.DueItem) error {
	c, err := s.p.Store.CheckinState(ctx, d.CellID)
	if errors.Is(err, storage.ErrNoCheckin) {
		return s.p.Store.AckDue(ctx, d) // closed: rotation ends
	}
	if err != nil {
		return err
	}
	now := s.p.Now()
	if c.MeetingID != d.MeetingID || c.Key == nil || !now.Before(c.Until) {
		return s.p.Store.AckDue(ctx, d) // another meeting's, or ended (checkinEnd's to tell)
	}
	m, err := s.p.Store.Meeting(ctx, d.CellID, d.MeetingID)
	if err != nil {
		return err
	}
	cl, err := s.p.Store.Cell(ctx, d.CellID)
	if err != nil {
		return err
	}
	step := checkin.StepOf(now)
	sc := checkin.Secret{Key: c.Key, CellID: d.CellID, MeetingID: d.MeetingID}
	f, err := sc.Frame(s.p.BotUsername, step)
	if err != nil {
		return err
	}
	loc := cellLocation(cl)
	var msgs []delivery.Message
	for chat, lang := range c.Shown {
		if !texts.Supported(lang) {
			lang = texts.VI
		}
		name := checkin.ResultName(d.CellID, d.MeetingID, chat)
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:%d", name, step),
			To:       storage.QueueRecipient{CellID: d.CellID, ChatID: chat},
			Parts:    []telegram.Raw{checkin.EditPhoto(chat, delivery.Ref(name), f, checkin.Caption(lang, m.Start.In(loc), f.Code))},
			Purpose:  PurposeCheckin,
			Priority: storage.PriorityUrgent,
			Coalesce: name,
		})
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue check-in step of meeting %d: %w", d.MeetingID, err)
	}
	next := d
	next.At = checkin.StepStart(step + 1)
	return s.p.Store.AckDueNext(ctx, d, next)
}

// CheckinEndedEdits are the edits that make every message showing check-in c
// (its QR and code) say it ended: at its end time, or at /close. start is the
// meeting's start in the cell's zone. Their ids make them once whoever queues
// them, and each takes the place of a step's edit still waiting.
func CheckinEndedEdits(c storage.Checkin, cellID int64, start time.Time) []delivery.Message {
	var msgs []delivery.Message
	for chat, lang := range c.Shown {
		if !texts.Supported(lang) {
			lang = texts.VI
		}
		name := checkin.ResultName(cellID, c.MeetingID, chat)
		msgs = append(msgs, delivery.Message{
			ID:       name + ":ended",
			To:       storage.QueueRecipient{CellID: cellID, ChatID: chat},
			Parts:    []telegram.Raw{checkin.EditCaption(chat, delivery.Ref(name), texts.T(lang, texts.CheckinShowEnded, texts.DateTime(lang, start)))},
			Purpose:  PurposeCheckin,
			Priority: storage.PriorityUrgent,
			Coalesce: name,
		})
	}
	return msgs
}

// checkinEnd ends, at its end time, a check-in nobody closed: codes and QR
// are refused from then on, the messages showing it say it ended, and the
// committee is reminded, once, to /close.
func (s *Scheduler) checkinEnd(ctx context.Context, d storage.DueItem) error {
	c, err := s.p.Store.CheckinState(ctx, d.CellID)
	if errors.Is(err, storage.ErrNoCheckin) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.MeetingID != d.MeetingID {
		return nil
	}
	if now := s.p.Now(); !c.Until.IsZero() && now.Before(c.Until) {
		// Not yet (the item was scheduled for a later end): come back then.
		d.At = c.Until
		return s.p.Store.RescheduleDue(ctx, d)
	}
	m, err := s.p.Store.Meeting(ctx, d.CellID, d.MeetingID)
	if err != nil {
		return err
	}
	cl, err := s.p.Store.Cell(ctx, d.CellID)
	if err != nil {
		return err
	}
	start := m.Start.In(cellLocation(cl))
	msgs := CheckinEndedEdits(c, d.CellID, start)
	// Told first, ended last: a process that dies in between does it again,
	// and the ids make the messages once.
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: queue the end of check-in of meeting %d: %w", d.MeetingID, err)
	}
	if m.State != cell.StateClosed {
		id := fmt.Sprintf("checkinend:%d:%d", d.CellID, d.MeetingID)
		if err := s.tellCommittee(ctx, d.CellID, id, func(lang string, _ cell.Cell) string {
			return texts.T(lang, texts.CheckinEndRemind, texts.DateTime(lang, start))
		}); err != nil {
			return err
		}
	}
	if _, err := s.p.Store.EndCheckin(ctx, d.CellID, d.MeetingID); err != nil {
		return err
	}
	s.log.Info("scheduler: check-in ended by itself", "cell", d.CellID, "meeting", d.MeetingID)
	return nil
}
