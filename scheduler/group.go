// The group's notice and its live counts, and what the committee is told.

package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// PurposeGroupNotice is the purpose of the group's notice in the queue.
const PurposeGroupNotice = "group notice"

// groupNoticeID is the queue's id of a meeting's notice in the group: one post
// per meeting, whatever moves it; its message id is recorded under the same
// name (storage.QueueEntry.Result), and the live counts edit it by reference.
func groupNoticeID(cellID, meetingID int64) string {
	return fmt.Sprintf("groupnotice:%d:%d", cellID, meetingID)
}

// groupNotice queues a meeting's notice in the group, with the RSVP buttons and
// the counts so far; the queue records its message id for the live counts.
func (s *Scheduler) groupNotice(ctx context.Context, d storage.DueItem) error {
	m, ok, err := s.meetingFor(ctx, d)
	if err != nil || !ok {
		return err
	}
	if !s.p.Now().Before(m.Start) {
		return nil
	}
	text, c, err := s.groupText(ctx, d.CellID, m)
	if err != nil || c.ChatID == 0 {
		return err
	}
	id := groupNoticeID(d.CellID, m.ID)
	if _, err := s.p.Delivery.Enqueue(ctx, delivery.Message{
		ID:       id,
		To:       storage.QueueRecipient{CellID: d.CellID, ChatID: c.ChatID},
		Parts:    delivery.TextParts(c.ChatID, []string{text}, RSVPKeyboard(groupLang(c), c.ID, m.ID)),
		Purpose:  PurposeGroupNotice,
		Priority: storage.PriorityUrgent,
		Result:   id,
	}); err != nil {
		return fmt.Errorf("scheduler: queue the notice of meeting %d in the group: %w", m.ID, err)
	}
	// What the group is shown, once it is queued: the live counts edit it
	// from then on, behind it in the group's lane.
	_, shown, err := s.p.Store.GroupNotice(ctx, d.CellID, m.ID)
	if err != nil || shown != "" {
		return err
	}
	return s.p.Store.SetGroupNotice(ctx, d.CellID, m.ID, 0, text)
}

// groupRefused tells the committee, once, that Telegram refused the group's
// notice as it is (too long, malformed, the bot removed from the group): sending
// it again would be refused again, so it is not retried.
func (s *Scheduler) groupRefused(ctx context.Context, id string) {
	var cellID, meetingID int64
	if _, err := fmt.Sscanf(id, "groupnotice:%d:%d", &cellID, &meetingID); err != nil {
		return
	}
	m, err := s.p.Store.Meeting(ctx, cellID, meetingID)
	if err == nil {
		err = s.tellCommittee(ctx, cellID, "groupfail:"+id[len("groupnotice:"):], func(lang string, c cell.Cell) string {
			return texts.T(lang, texts.MeetingGroupRefused, When(lang, c, m))
		})
	}
	if err != nil {
		s.log.Error("scheduler: tell the committee the group refused a notice", "msg", id, "err", err)
	}
}

// tellCommittee queues a text to each committee member of the cell who has
// Telegram, once per id.
func (s *Scheduler) tellCommittee(ctx context.Context, cellID int64, id string, text func(lang string, c cell.Cell) string) error {
	cd, err := s.load(ctx, cellID)
	if err != nil {
		return err
	}
	var msgs []delivery.Message
	for _, mem := range cd.roster {
		if !mem.Role.IsCommittee() || mem.UserID == 0 {
			continue
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:%d", id, mem.ID),
			To:       storage.QueueRecipient{CellID: cellID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    delivery.TextParts(mem.UserID, []string{text(cd.lang(mem), cd.cell)}, nil),
			Purpose:  "committee notice",
			Priority: storage.PriorityUrgent,
		})
	}
	if _, err := s.p.Delivery.Enqueue(ctx, msgs...); err != nil {
		return fmt.Errorf("scheduler: tell the committee %s: %w", id, err)
	}
	return nil
}

// groupText is the group's notice with the counts of the expected members'
// answers (no names: those are for the committee).
func (s *Scheduler) groupText(ctx context.Context, cellID int64, m cell.Meeting) (string, cell.Cell, error) {
	cd, err := s.load(ctx, cellID)
	if err != nil {
		return "", cell.Cell{}, err
	}
	answers, err := s.p.Store.Answers(ctx, cellID, m.ID)
	if err != nil {
		return "", cell.Cell{}, err
	}
	counts, _ := cell.Tally(cd.roster, answers, m.Start.In(cd.loc))
	lang := cd.groupLang()
	if m.State == cell.StateCancelled {
		return texts.T(lang, texts.MeetingCancelled, texts.Escape(cd.cell.Name), strings.ToLower(KindName(lang, m.Kind)), When(lang, cd.cell, m)), cd.cell, nil
	}
	return NoticeText(lang, cd.cell, m) + "\n\n" + CountsText(lang, cd.cell, m, counts), cd.cell, nil
}

func groupLang(c cell.Cell) string {
	if texts.Supported(c.Lang) {
		return c.Lang
	}
	return texts.VI
}

// countsGap is the least time between two edits of one group's notice: the
// group's pace in Telegram's limits (20 messages a minute), as delivery keeps it.
var countsGap = storage.DefaultRateLimits().Group.Every

// RunCounts edits the group notices whose answers changed, until ctx ends: the
// presses of a few seconds make one edit, the last edit shows the true counts, and
// an edit that would show the text already shown is not made.
func (s *Scheduler) RunCounts(ctx context.Context) error {
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		s.countsOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Scheduler) countsOnce(ctx context.Context) {
	claims, err := s.p.Store.ClaimCounts(ctx, 15*time.Second, 50)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("scheduler: claim counts", "err", err)
		}
		return
	}
	for _, c := range claims {
		ctx := context.WithoutCancel(ctx)
		gap, err := s.editCounts(ctx, c)
		if err != nil {
			s.log.Warn("scheduler: edit counts", "cell", c.CellID, "meeting", c.MeetingID, "err", err)
			if err := s.p.Store.DelayCounts(ctx, c, countsGap); err != nil {
				s.log.Warn("scheduler: delay counts", "err", err)
			}
			continue
		}
		if err := s.p.Store.DoneCounts(ctx, c, gap); err != nil {
			s.log.Warn("scheduler: finish counts", "err", err)
		}
	}
}

func (s *Scheduler) editCounts(ctx context.Context, c storage.CountsClaim) (time.Duration, error) {
	m, err := s.p.Store.Meeting(ctx, c.CellID, c.MeetingID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	_, shown, err := s.p.Store.GroupNotice(ctx, c.CellID, c.MeetingID)
	if err != nil || shown == "" {
		return 0, err // not queued yet: it will show the counts of its time
	}
	text, cl, err := s.groupText(ctx, c.CellID, m)
	if err != nil {
		return 0, err
	}
	if text == shown || cl.ChatID == 0 {
		return 0, nil
	}
	var kb *telegram.InlineKeyboardMarkup
	if m.Open() && s.p.Now().Before(m.Start) {
		kb = RSVPKeyboard(groupLang(cl), cl.ID, m.ID)
	}
	// An edit of the notice by reference, behind it in the group's lane; while
	// one waits, a newer one takes its place (the latest counts win).
	notice := groupNoticeID(c.CellID, c.MeetingID)
	edit := delivery.RawOf(telegram.EditMessageText{ChatID: cl.ChatID, Text: text, Keyboard: kb})
	edit.Values["message_id"] = delivery.Ref(notice)
	if _, err := s.p.Delivery.Enqueue(ctx, delivery.Message{
		ID:       fmt.Sprintf("counts:%d:%d:%d", c.CellID, c.MeetingID, time.Now().UnixNano()),
		To:       storage.QueueRecipient{CellID: c.CellID, ChatID: cl.ChatID},
		Parts:    []telegram.Raw{edit},
		Purpose:  "live counts",
		Priority: storage.PriorityUrgent,
		Coalesce: "counts:" + notice,
	}); err != nil {
		return 0, fmt.Errorf("scheduler: queue the counts of meeting %d: %w", c.MeetingID, err)
	}
	if err := s.p.Store.SetGroupNotice(ctx, c.CellID, c.MeetingID, 0, text); err != nil {
		return 0, err
	}
	return countsGap, nil
}
