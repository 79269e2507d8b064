package bot

import (
	"errors"
	"fmt"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Corrections after /close: the committee changes one member's outcome at a
// closed meeting, from the summary's "✏️ Sửa điểm danh" button or the member's
// card. The change is kept (who, when, from, to), the committee gets the
// corrected summary, and the group's counts message is edited.

// Verbs of corrections (buttons.go has the others).
const (
	verbCorrect       = "ce" // cell, meeting, page, 1 to edit the list in place: the members of a closed meeting
	verbCorrectMember = "cm" // cell, meeting, member: the choices for one member
	verbCorrectSet    = "cx" // cell, meeting, member, choice (correctChoices)
	verbCorrectCard   = "cq" // cell, member: the member's closed meetings, from the card
)

// correctChoices are the outcomes a correction offers, by the code its button
// carries (0 is unused, so that a missing argument is refused).
var correctChoices = []struct {
	to     cell.Outcome
	reason cell.ReasonCategory
}{
	{},
	{cell.OutcomePresent, ""},
	{cell.OutcomeExcused, cell.ReasonWork},
	{cell.OutcomeExcused, cell.ReasonIllness},
	{cell.OutcomeExcused, cell.ReasonFamily},
	{cell.OutcomeExcused, cell.ReasonOther},
	{cell.OutcomeAbsent, ""},
}

// correctPage is how many names one page of the correction list shows.
const correctPage = 30

// correctCardMeetings is how many of a member's latest closed meetings their
// card offers to correct.
const correctCardMeetings = 6

// closeGroupName is where the queue records the message id of the group's
// counts posted at /close, for a correction to edit it.
func closeGroupName(cellID, meetingID int64) string {
	return fmt.Sprintf("closegroup:%d:%d", cellID, meetingID)
}

// summaryKeyboard is the button under the committee's summary.
func summaryKeyboard(lang string, cellID, meetingID int64) *telegram.InlineKeyboardMarkup {
	return keyboard(row(cb(texts.T(lang, texts.CorrectButton), verbCorrect, cellID, meetingID, 0, 0)))
}

// outcomeKey names an outcome as the report does.
func outcomeKey(o cell.Outcome) texts.Key {
	switch o {
	case cell.OutcomePresent:
		return texts.ReportOutcomePresent
	case cell.OutcomeExcused:
		return texts.ReportOutcomeExcused
	case cell.OutcomeAbsent:
		return texts.ReportOutcomeAbsent
	}
	return texts.ReportOutcomeNotExpected
}

// outcomeMark is the sign before a name in the correction list.
func outcomeMark(o cell.Outcome) string {
	switch o {
	case cell.OutcomePresent:
		return "✅"
	case cell.OutcomeExcused:
		return "🟡"
	case cell.OutcomeAbsent:
		return "🚫"
	}
	return "▫️"
}

// meetingRecord is what a meeting recorded, with the corrections made since
// its /close applied: the summary, and the roster it was worked out from
// (members who left since are kept, as at the meeting).
type meetingRecord struct {
	summary cell.Summary
	roster  []cell.Member
}

// closedRecord works out a meeting's summary from its stored answers and
// presence, with the corrections made (and extra, when not nil, on top).
func (b *Bot) closedRecord(r *request, m cell.Meeting, extra *cell.Correction) (meetingRecord, error) {
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return meetingRecord{}, err
	}
	answers, err := b.p.Store.Answers(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return meetingRecord{}, err
	}
	pres, err := b.p.Store.Presences(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return meetingRecord{}, err
	}
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return meetingRecord{}, err
	}
	recorded, err := b.p.Store.Outcomes(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return meetingRecord{}, err
	}
	cs, err := b.p.Store.Corrections(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return meetingRecord{}, err
	}
	if extra != nil {
		cs[extra.MemberID] = *extra
	}
	as, ps := recordLists(answers, pres)
	as, ps = cell.Correct(as, ps, cs)
	of := cell.WithRecord(roster, recorded)
	return meetingRecord{
		summary: cell.Summarize(m.Start.In(r.location()), of, as, ps, m.Guests, sched.Target),
		roster:  of,
	}, nil
}

// closedButtonMeeting loads the meeting a button names in its second argument:
// false (answered) when it is gone, or when it is not closed, which the
// committee is told in a sentence; nothing changes then.
func (b *Bot) closedButtonMeeting(r *request) (cell.Meeting, bool, error) {
	m, err := b.p.Store.Meeting(r.ctx, r.cell.ID, r.button.arg(1))
	if errors.Is(err, storage.ErrNotFound) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return cell.Meeting{}, false, nil
	}
	if err != nil {
		return cell.Meeting{}, false, err
	}
	if m.State != cell.StateClosed {
		r.answerCallback(r.t(texts.CorrectNotClosed, texts.DateTime(r.lang, m.Start.In(r.location()))), true)
		return cell.Meeting{}, false, nil
	}
	return m, true, nil
}

// correctList is the summary's "✏️ Sửa điểm danh": every member the meeting
// has an outcome for, each a button showing it.
func (b *Bot) correctList(r *request) error {
	m, ok, err := b.closedButtonMeeting(r)
	if err != nil || !ok {
		return err
	}
	rec, err := b.closedRecord(r, m, nil)
	if err != nil {
		return err
	}
	var names []cell.Member
	for _, mem := range rec.roster {
		if _, ok := rec.summary.Outcomes[mem.ID]; ok {
			names = append(names, mem)
		}
	}
	pages := max(1, (len(names)+correctPage-1)/correctPage)
	page := max(0, min(int(r.button.arg(2)), pages-1))
	var rows [][]telegram.InlineKeyboardButton
	for _, mem := range names[page*correctPage : min(len(names), (page+1)*correctPage)] {
		label := outcomeMark(rec.summary.Outcomes[mem.ID]) + " " + mem.Name
		rows = append(rows, row(cb(label, verbCorrectMember, r.cell.ID, m.ID, mem.ID)))
	}
	if nav := pageNav(r, page, pages, func(label string, to int) telegram.InlineKeyboardButton {
		return cb(label, verbCorrect, r.cell.ID, m.ID, int64(to), 1)
	}); nav != nil {
		rows = append(rows, nav)
	}
	r.answerCallback("", false)
	text := r.t(texts.CorrectPick, texts.DateTime(r.lang, m.Start.In(r.location())))
	if r.button.arg(3) == 1 {
		r.edit(text, keyboard(rows...))
	} else {
		r.replyKB(text, keyboard(rows...))
	}
	return nil
}

// correctCard is the card's "✏️ Sửa điểm danh": the member's latest closed
// meetings, each a button.
func (b *Bot) correctCard(r *request) error {
	mem, ok, err := b.buttonMember(r)
	if err != nil || !ok {
		return err
	}
	now := b.p.Now()
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, now.AddDate(-1, 0, 0), now)
	if err != nil {
		return err
	}
	loc := r.location()
	var rows [][]telegram.InlineKeyboardButton
	for i := len(ms) - 1; i >= 0 && len(rows) < correctCardMeetings; i-- {
		m := ms[i]
		if m.State != cell.StateClosed {
			continue
		}
		outcomes, err := b.p.Store.Outcomes(r.ctx, r.cell.ID, m.ID)
		if err != nil {
			return err
		}
		o, ok := outcomes[mem.ID]
		if !ok {
			continue
		}
		label := outcomeMark(o) + " " + texts.DateTime(r.lang, m.Start.In(loc))
		rows = append(rows, row(cb(label, verbCorrectMember, r.cell.ID, m.ID, mem.ID)))
	}
	if len(rows) == 0 {
		r.answerCallback(r.alertWithName(texts.CorrectNoMeetings, mem.Name), true)
		return nil
	}
	rows = append(rows, row(cb(r.t(texts.CardBack), verbCard, r.cell.ID, mem.ID)))
	r.answerCallback("", false)
	r.edit(r.t(texts.CorrectPickMeeting, texts.Escape(mem.Name)), keyboard(rows...))
	return nil
}

// correctMember shows one member's outcome at a closed meeting with the
// outcomes it can be corrected to.
func (b *Bot) correctMember(r *request) error {
	m, ok, err := b.closedButtonMeeting(r)
	if err != nil || !ok {
		return err
	}
	mem, o, ok, err := b.correctTarget(r, m)
	if err != nil || !ok {
		return err
	}
	r.answerCallback("", false)
	r.edit(b.correctAskText(r, m, mem, o), b.correctKeyboard(r, m, mem))
	return nil
}

// correctTarget is the member a correction button names and their outcome
// now; false (answered as an expired button) when the meeting has none for them.
func (b *Bot) correctTarget(r *request, m cell.Meeting) (cell.Member, cell.Outcome, bool, error) {
	mem, err := b.p.Store.Member(r.ctx, r.cell.ID, r.button.arg(2))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return cell.Member{}, "", false, err
	}
	outcomes, oerr := b.p.Store.Outcomes(r.ctx, r.cell.ID, m.ID)
	if oerr != nil {
		return cell.Member{}, "", false, oerr
	}
	o, has := outcomes[mem.ID]
	if err != nil || !has {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return cell.Member{}, "", false, nil
	}
	return mem, o, true, nil
}

func (b *Bot) correctAskText(r *request, m cell.Meeting, mem cell.Member, o cell.Outcome) string {
	return r.t(texts.CorrectAsk, texts.Escape(mem.Name), texts.DateTime(r.lang, m.Start.In(r.location())), r.t(outcomeKey(o)))
}

// correctKeyboard offers present, excused with each reason, and absent; for a
// member who was not expected that day, present or not.
func (b *Bot) correctKeyboard(r *request, m cell.Meeting, mem cell.Member) *telegram.InlineKeyboardMarkup {
	choice := func(label string, code int) telegram.InlineKeyboardButton {
		return cb(label, verbCorrectSet, r.cell.ID, m.ID, mem.ID, int64(code))
	}
	rows := [][]telegram.InlineKeyboardButton{row(choice(r.t(texts.CardMarkPresent), 1))}
	if mem.Expected(m.Start.In(r.location())) {
		rows = append(rows,
			row(choice(r.t(texts.ReasonWork), 2), choice(r.t(texts.ReasonIllness), 3)),
			row(choice(r.t(texts.ReasonFamily), 4), choice(r.t(texts.ReasonOther), 5)),
			row(choice(r.t(texts.CorrectAbsent), 6)))
	} else {
		rows = append(rows, row(choice(r.t(texts.CardMarkAbsent), 6)))
	}
	rows = append(rows, row(cb(r.t(texts.CardBack), verbCorrect, r.cell.ID, m.ID, 0, 1)))
	return keyboard(rows...)
}

// correctSet makes the correction a choice names: stored with who, when, from
// and to; then the corrected summary to the committee, the group's counts
// edited, and the absence alerts worked out again.
func (b *Bot) correctSet(r *request) error {
	m, ok, err := b.closedButtonMeeting(r)
	if err != nil || !ok {
		return err
	}
	code := int(r.button.arg(3))
	if code <= 0 || code >= len(correctChoices) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	mem, _, ok, err := b.correctTarget(r, m)
	if err != nil || !ok {
		return err
	}
	c := cell.Correction{MemberID: mem.ID, To: correctChoices[code].to, Reason: correctChoices[code].reason, At: b.p.Now()}
	if r.member != nil {
		c.By, c.ByName = r.member.ID, r.member.Name
	}
	// What the change means in the summary: a member who was not expected and
	// did not come is "not expected", whatever the button said.
	rec, err := b.closedRecord(r, m, &c)
	if err != nil {
		return err
	}
	c.To = rec.summary.Outcomes[mem.ID]
	if c.To != cell.OutcomeExcused {
		c.Reason = ""
	}
	from, err := b.p.Store.Correct(r.ctx, r.cell.ID, m.ID, c)
	switch {
	case errors.Is(err, storage.ErrNotClosed):
		r.answerCallback(r.t(texts.CorrectNotClosed, texts.DateTime(r.lang, m.Start.In(r.location()))), true)
		return nil
	case errors.Is(err, storage.ErrNoOutcome), errors.Is(err, storage.ErrNotFound):
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	case errors.Is(err, storage.ErrUnchanged):
		r.answerCallback(r.t(texts.CorrectUnchanged), false)
		return nil
	case err != nil:
		return err
	}
	r.log.Info("attendance corrected", "meeting", m.ID, "member", mem.ID, "from", from, "to", c.To)
	r.answerCallback("", false)
	to := r.t(outcomeKey(c.To))
	if k, ok := reasonKey(c.Reason); ok && c.To == cell.OutcomeExcused {
		to += " (" + r.t(k) + ")"
	}
	r.edit(r.t(texts.CorrectDone, texts.Escape(mem.Name), r.t(outcomeKey(from)), to), nil)
	return b.correctionSent(r, m, rec.summary, mem, from, c)
}

// correctionSent tells of a correction: the corrected summary to the
// committee, the group's counts edited in place, the absence alerts again.
func (b *Bot) correctionSent(r *request, m cell.Meeting, sum cell.Summary, mem cell.Member, from cell.Outcome, c cell.Correction) error {
	loc := r.location()
	id := "correct:" + r.update.Key()
	by := c.ByName
	if err := b.notifyCommittee(r.ctx, *r.cell, id, 0, false, func(lang string) (string, *telegram.InlineKeyboardMarkup) {
		to := texts.T(lang, outcomeKey(c.To))
		if k, ok := reasonKey(c.Reason); ok && c.To == cell.OutcomeExcused {
			to += " (" + texts.T(lang, k) + ")"
		}
		head := texts.T(lang, texts.CorrectHead, texts.Escape(by), texts.Escape(mem.Name), texts.T(lang, outcomeKey(from)), to)
		return head + "\n" + summaryText(lang, m, sum, loc), summaryKeyboard(lang, r.cell.ID, m.ID)
	}); err != nil {
		return err
	}
	if r.cell.ChatID != 0 {
		lang := r.cell.Lang
		if !texts.Supported(lang) {
			lang = texts.VI
		}
		text := groupCountsText(lang, m, sum, loc) + "\n" + texts.T(lang, texts.CorrectGroupMark)
		// An edit by reference, behind the counts posted at /close in the
		// group's lane; while one waits, a newer one takes its place.
		name := closeGroupName(r.cell.ID, m.ID)
		edit := delivery.RawOf(telegram.EditMessageText{ChatID: r.cell.ChatID, Text: text})
		edit.Values["message_id"] = delivery.Ref(name)
		if _, err := b.p.Delivery.Enqueue(r.ctx, delivery.Message{
			ID:       id + ":group",
			To:       storage.QueueRecipient{CellID: r.cell.ID, ChatID: r.cell.ChatID},
			Parts:    []telegram.Raw{edit},
			Purpose:  "corrected counts",
			Priority: storage.PriorityUrgent,
			Coalesce: "counts:" + name,
		}); err != nil {
			return fmt.Errorf("queue the corrected counts of meeting %d: %w", m.ID, err)
		}
	}
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	return b.absenceAlerts(r, m, roster, loc)
}

// groupCountsText is the group's counts of a closed meeting: no names.
func groupCountsText(lang string, m cell.Meeting, sum cell.Summary, loc *time.Location) string {
	return texts.T(lang, texts.CloseGroup, texts.DateTime(lang, m.Start.In(loc)), sum.PresentExpected(), sum.Expected,
		rateText(lang, sum), len(sum.Excused), len(sum.AbsentNoReason), len(sum.PresentNotExpected), len(sum.Guests))
}

// correctCardRow is the card's button to correct a member's attendance.
func correctCardRow(r *request, m cell.Member) []telegram.InlineKeyboardButton {
	return row(cb(r.t(texts.CorrectButton), verbCorrectCard, r.cell.ID, m.ID))
}
