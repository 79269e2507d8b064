package bot

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/checkin"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// checkinEnds is how long after the start check-in stays open when nobody
// closes the meeting: a forgotten check-in does not stay open for days.
const checkinEnds = 3 * time.Hour

// openCheckin opens check-in for m (or finds it open) and shows the committee
// member the message to hold up in the room: the QR and the code of the
// current step, replaced every step by the scheduler (storage.DueCheckin).
func (b *Bot) openCheckin(r *request, m cell.Meeting) error {
	loc := r.location()
	now := b.p.Now()
	until := m.Start.Add(checkinEnds)
	if !now.Before(until) {
		return texts.Errorf(texts.CheckinTooLate, texts.DateTime(r.lang, m.Start.In(loc)))
	}
	c, err := b.p.Store.OpenRotatingCheckin(r.ctx, r.cell.ID, m.ID, checkin.NewKey(), until)
	if errors.Is(err, storage.ErrCheckinOpen) {
		other, err := b.p.Store.Meeting(r.ctx, r.cell.ID, c.MeetingID)
		if err != nil {
			return err
		}
		return texts.Errorf(texts.CheckinOther, texts.DateTime(r.lang, other.Start.In(loc)))
	}
	if err != nil {
		return err
	}
	if m.State == cell.StateScheduled {
		if _, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, m.ID, func(m *cell.Meeting) error {
			if m.State == cell.StateScheduled {
				m.State = cell.StateCheckin
			}
			return nil
		}); err != nil {
			return err
		}
	}
	step := checkin.StepOf(now)
	// Both items are one each per meeting: opening again, or from another
	// replica, leaves the ones waiting as they are.
	if err := b.p.Store.ScheduleDue(r.ctx,
		storage.DueItem{Kind: storage.DueCheckin, CellID: r.cell.ID, MeetingID: m.ID, At: checkin.StepStart(step + 1)},
		storage.DueItem{Kind: storage.DueCheckinEnd, CellID: r.cell.ID, MeetingID: m.ID, At: until},
	); err != nil {
		return err
	}
	// Not in the group: the code is for those in the room.
	chat := r.from.ID
	if err := b.p.Store.AddCheckinShown(r.ctx, r.cell.ID, m.ID, chat, r.lang); err != nil {
		return err
	}
	sc := checkin.Secret{Key: c.Key, CellID: r.cell.ID, MeetingID: m.ID}
	f, err := sc.Frame(b.p.BotUsername, step)
	if err != nil {
		return err
	}
	photo := checkin.SendPhoto(chat, f, checkin.Caption(r.lang, m.Start.In(loc), f.Code))
	if chat == r.chat.ID && r.thread != 0 {
		photo.Values["message_thread_id"] = strconv.Itoa(r.thread)
	}
	_, err = r.callNamed(chat, photo, nil, checkin.ResultName(r.cell.ID, m.ID, chat))
	if r.chat.IsPrivate() {
		return err
	}
	if err != nil {
		r.log.Warn("send the check-in message privately", "err", err)
		return texts.Errorf(texts.CommonPrivateOnly, b.p.BotUsername)
	}
	r.reply(r.t(texts.CheckinPrivate))
	return nil
}

// checkInWithCode marks the sender present with a code typed from the room:
// the code of any step still accepted (checkin.Accepted), with the lockout
// after wrong codes. ok is false when the open check-in has no key (opened
// with a fixed code before codes rotated): the fixed code is then checked.
func (b *Bot) checkInWithCode(r *request, code string) (meetingID int64, already, ok bool, err error) {
	c, err := b.p.Store.CheckinState(r.ctx, r.cell.ID)
	if err != nil {
		return 0, false, true, err
	}
	if c.Key == nil {
		return 0, false, false, nil
	}
	now := b.p.Now()
	sc := checkin.Secret{Key: c.Key, CellID: r.cell.ID, MeetingID: c.MeetingID}
	var accepted []string
	for _, s := range checkin.AcceptedSteps(now) {
		accepted = append(accepted, sc.Code(s))
	}
	p := cell.Presence{MemberID: r.member.ID, Mark: cell.PresentByCode, At: now}
	id, already, err := b.p.Store.CheckInRotating(r.ctx, r.cell.ID, c, p, code, accepted, now)
	if errors.Is(err, storage.ErrCheckinEnded) {
		return c.MeetingID, false, true, err
	}
	return id, already, true, err
}

// checkinByLink is /start with a check-in link's payload: the member scanned
// the QR shown in the room.
func (b *Bot) checkinByLink(r *request) error {
	tok, ok := checkin.ParsePayload(r.args)
	if !ok {
		return texts.Errorf(texts.CheckinQRExpired)
	}
	if r.cell == nil || r.cell.ID != tok.CellID || r.member == nil {
		c, err := b.p.Store.Cell(r.ctx, tok.CellID)
		if errors.Is(err, storage.ErrNotFound) {
			return texts.Errorf(texts.CommonNoCellPrivate)
		}
		if err != nil {
			return err
		}
		m, err := b.p.Store.MemberByUser(r.ctx, c.ID, r.from.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return texts.Errorf(texts.CommonNoCellPrivate)
		}
		if err != nil {
			return err
		}
		r.cell, r.member = &c, &m
	}
	c, err := b.p.Store.CheckinState(r.ctx, r.cell.ID)
	if errors.Is(err, storage.ErrNoCheckin) {
		return texts.Errorf(texts.CheckinNone)
	}
	if err != nil {
		return err
	}
	now := b.p.Now()
	sc := checkin.Secret{Key: c.Key, CellID: r.cell.ID, MeetingID: c.MeetingID}
	if c.Key == nil || !sc.Verify(tok) || !checkin.Accepted(tok.Step, now) {
		// A scan is no guess: it does not count towards the lockout.
		return texts.Errorf(texts.CheckinQRExpired)
	}
	p := cell.Presence{MemberID: r.member.ID, Mark: cell.PresentByQR, At: now}
	id, already, err := b.p.Store.CheckInRotating(r.ctx, r.cell.ID, c, p, "", nil, now)
	return b.checkedIn(r, c.MeetingID, id, already, err)
}

// checkedIn answers a check-in by code or link.
func (b *Bot) checkedIn(r *request, open, id int64, already bool, err error) error {
	switch {
	case errors.Is(err, storage.ErrNoCheckin):
		return texts.Errorf(texts.CheckinNone)
	case errors.Is(err, storage.ErrCheckinEnded):
		m, merr := b.p.Store.Meeting(r.ctx, r.cell.ID, open)
		if merr != nil {
			return merr
		}
		return texts.Errorf(texts.CheckinEnded, texts.DateTime(r.lang, m.Start.In(r.location())))
	case err != nil:
		return b.codeRefused(r, err)
	}
	m, err := b.p.Store.Meeting(r.ctx, r.cell.ID, id)
	if err != nil {
		return err
	}
	key := texts.CheckinDone
	if already {
		key = texts.CheckinAlready
	}
	done := r.t(key, texts.DateTime(r.lang, m.Start.In(r.location())))
	if !r.chat.IsPrivate() {
		if _, err := r.send(r.from.ID, done, nil); err == nil {
			return nil
		}
		// Never opened the bot: say it where they wrote.
	}
	r.reply(done)
	return nil
}

// methodKeys name the ways a presence is recorded.
var methodKeys = map[cell.PresenceMark]texts.Key{
	cell.PresentByQR:       texts.CloseMethodQR,
	cell.PresentByCode:     texts.CloseMethodCode,
	cell.PresentByRollCall: texts.CloseMethodRoll,
	cell.PresentByCard:     texts.CloseMethodCard,
}

// methodsLine is the summary's line telling, for each member present, how
// the presence was recorded: "QR scan 2 (A, B); code 1 (C)"; "" when nobody
// came.
func methodsLine(lang string, s cell.Summary) string {
	var parts []string
	for _, mark := range cell.PresenceMethods {
		ms := s.PresentBy[mark]
		if len(ms) == 0 {
			continue
		}
		parts = append(parts, texts.T(lang, texts.CloseMethodPart, texts.T(lang, methodKeys[mark]), len(ms), joinNames(ms)))
	}
	if len(parts) == 0 {
		return ""
	}
	return texts.T(lang, texts.CloseByMethod, strings.Join(parts, "; "))
}
