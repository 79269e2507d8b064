package bot

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// Check-in opens this long before the start (README, docs/commands.md).
const checkinOpens = 60 * time.Minute

// A meeting can be closed, and its roll call taken, for this long after its start.
const closeWithin = 7 * 24 * time.Hour

// isCode reports whether a private message is a check-in code by itself.
func isCode(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 4 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// currentMeeting is the meeting check-in, roll call and /close act on: the one
// whose check-in is open, else the latest open meeting that started within a week,
// else the next one if it starts within the hour. ok is false when there is none;
// next is then the next meeting, if any.
func (b *Bot) currentMeeting(r *request) (m cell.Meeting, ok bool, next *cell.Meeting, err error) {
	if id, err := b.p.Store.OpenCheckinMeeting(r.ctx, r.cell.ID); err == nil {
		m, err := b.p.Store.Meeting(r.ctx, r.cell.ID, id)
		if err == nil {
			return m, true, nil, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return cell.Meeting{}, false, nil, err
		}
	} else if !errors.Is(err, storage.ErrNoCheckin) {
		return cell.Meeting{}, false, nil, err
	}
	now := b.p.Now()
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, now.Add(-closeWithin), now.AddDate(100, 0, 0))
	if err != nil {
		return cell.Meeting{}, false, nil, err
	}
	var started *cell.Meeting
	for i := range ms {
		m := ms[i]
		if !m.Open() {
			continue
		}
		if !m.Start.After(now) {
			started = &ms[i]
			continue
		}
		if started != nil {
			return *started, true, nil, nil
		}
		if m.Start.Sub(now) <= checkinOpens {
			return m, true, nil, nil
		}
		return cell.Meeting{}, false, &m, nil
	}
	if started != nil {
		return *started, true, nil, nil
	}
	return cell.Meeting{}, false, nil, nil
}

// checkin is /checkin: a committee member opens check-in and gets the code; a
// member sends /checkin CODE (or the code alone) to be marked present.
func (b *Bot) checkin(r *request) error {
	code := strings.TrimSpace(r.args)
	if code != "" || !r.isCommittee() {
		return b.checkinCode(r, code)
	}
	m, ok, next, err := b.currentMeeting(r)
	if err != nil {
		return err
	}
	loc := r.location()
	if !ok {
		if next != nil {
			return texts.Errorf(texts.CheckinNotYet, texts.DateTime(r.lang, next.Start.In(loc)))
		}
		return texts.Errorf(texts.MeetingNone)
	}
	return b.openCheckin(r, m)
}

// checkinCode marks the sender present when code is the open check-in's. In
// the group (`/checkin 1234`, never a bare number there) the confirmation goes
// privately, so that forty members checking in make no noise in the group.
func (b *Bot) checkinCode(r *request, code string) error {
	if r.member == nil {
		return texts.Errorf(texts.CommonNoCellPrivate)
	}
	if code == "" {
		return texts.Errorf(texts.CheckinUsage)
	}
	id, already, rotating, err := b.checkInWithCode(r, code)
	if rotating || errors.Is(err, storage.ErrNoCheckin) {
		return b.checkedIn(r, id, id, already, err)
	}
	// A check-in opened before codes rotated keeps its fixed code.
	id, err = b.p.Store.CheckIn(r.ctx, r.cell.ID, cell.Presence{MemberID: r.member.ID, Mark: cell.PresentByCode, At: b.p.Now()}, code)
	switch {
	case errors.Is(err, storage.ErrNoCheckin):
		return texts.Errorf(texts.CheckinNone)
	case err != nil:
		return b.codeRefused(r, err)
	}
	m, err := b.p.Store.Meeting(r.ctx, r.cell.ID, id)
	if err != nil {
		return err
	}
	done := r.t(texts.CheckinDone, texts.DateTime(r.lang, m.Start.In(r.location())))
	if !r.chat.IsPrivate() {
		if _, err := r.send(r.from.ID, done, nil); err == nil {
			return nil
		}
		// Never opened the bot: say it where they wrote.
	}
	r.reply(done)
	return nil
}

func (b *Bot) checkinTries(r *request) int {
	n, err := b.p.Store.CheckinTriesOf(r.ctx, r.cell.ID, r.member.ID)
	if err != nil {
		return 0
	}
	return n
}

// rollPage is how many names one page of the roll call shows.
const rollPage = 30

// attendance is /attendance: the roll call.
func (b *Bot) attendance(r *request) error {
	m, ok, _, err := b.currentMeeting(r)
	if err != nil {
		return err
	}
	if !ok {
		return texts.Errorf(texts.AttendanceNoMeet)
	}
	text, kb, err := b.rollCall(r, m, 0)
	if err != nil {
		return err
	}
	r.replyKB(text, kb)
	return nil
}

// rollCall renders one page of the roll call: the expected members, then the
// exempt and away members, each a button showing their mark.
func (b *Bot) rollCall(r *request, m cell.Meeting, page int) (string, *telegram.InlineKeyboardMarkup, error) {
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return "", nil, err
	}
	pres, err := b.p.Store.Presences(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return "", nil, err
	}
	loc := r.location()
	day := m.Start.In(loc)
	var expected, others []cell.Member
	present := 0
	for _, mem := range roster {
		if !mem.OnRoster(day) {
			continue
		}
		if mem.Expected(day) {
			expected = append(expected, mem)
			if pres[mem.ID].Present() {
				present++
			}
		} else {
			others = append(others, mem)
		}
	}
	all := append(expected, others...)
	pages := (len(all) + rollPage - 1) / rollPage
	page = max(0, min(page, pages-1))
	var rows [][]telegram.InlineKeyboardButton
	for i := page * rollPage; i < min(len(all), (page+1)*rollPage); i++ {
		mem := all[i]
		mark := "⬜"
		switch p, ok := pres[mem.ID]; {
		case ok && p.Present():
			mark = "✅"
		case ok:
			mark = "❌"
		}
		label := mark + " " + mem.Name
		if !mem.Expected(day) {
			label += " 🔸"
		}
		rows = append(rows, row(cb(label, verbRollCall, r.cell.ID, m.ID, mem.ID, int64(page))))
	}
	if nav := pageNav(r, page, pages, func(label string, to int) telegram.InlineKeyboardButton {
		return cb(label, verbRollPage, r.cell.ID, m.ID, int64(to))
	}); nav != nil {
		rows = append(rows, nav)
	}
	text := r.t(texts.AttendanceHeader, texts.DateTime(r.lang, day), present, len(expected))
	return text, keyboard(rows...), nil
}

// openButtonMeeting loads the meeting a button names in its argument arg,
// refusing (as an expired button) one that is gone or no longer open.
func (b *Bot) openButtonMeeting(r *request, arg int) (cell.Meeting, bool, error) {
	m, err := b.p.Store.Meeting(r.ctx, r.cell.ID, r.button.arg(arg))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !m.Open()) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return cell.Meeting{}, false, nil
	}
	return m, err == nil, err
}

// rollToggle is a press on a name in the roll call: not checked → present →
// absent → present…
func (b *Bot) rollToggle(r *request) error {
	m, ok, err := b.openButtonMeeting(r, 1)
	if err != nil || !ok {
		return err
	}
	memberID := r.button.arg(2)
	if _, err := b.p.Store.Member(r.ctx, r.cell.ID, memberID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			r.answerCallback(r.t(texts.CommonButtonExpired), true)
			return nil
		}
		return err
	}
	pres, err := b.p.Store.Presences(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return err
	}
	mark := cell.PresentByRollCall
	if pres[memberID].Present() {
		mark = cell.MarkedAbsent
	}
	if err := b.p.Store.SetPresence(r.ctx, r.cell.ID, m.ID, cell.Presence{MemberID: memberID, Mark: mark, At: b.p.Now()}); err != nil {
		return err
	}
	r.answerCallback("", false)
	text, kb, err := b.rollCall(r, m, int(r.button.arg(3)))
	if err != nil {
		return err
	}
	r.edit(text, kb)
	return nil
}

// rollPageTurn is a press on the roll call's page buttons.
func (b *Bot) rollPageTurn(r *request) error {
	m, ok, err := b.openButtonMeeting(r, 1)
	if err != nil || !ok {
		return err
	}
	r.answerCallback("", false)
	text, kb, err := b.rollCall(r, m, int(r.button.arg(2)))
	if err != nil {
		return err
	}
	r.edit(text, kb)
	return nil
}

// closeMeeting is /close: check-in and answers end, the committee gets the
// summary with every name, the group the counts, and the committee the absence
// alerts.
func (b *Bot) closeMeeting(r *request) error {
	m, ok, _, err := b.currentMeeting(r)
	if err != nil {
		return err
	}
	loc := r.location()
	if !ok {
		return texts.Errorf(texts.CloseNoMeeting)
	}
	if m.Start.After(b.p.Now()) {
		return texts.Errorf(texts.CloseNotStarted, texts.DateTime(r.lang, m.Start.In(loc)))
	}
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	answers, err := b.p.Store.Answers(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return err
	}
	pres, err := b.p.Store.Presences(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return err
	}
	sched, err := b.p.Store.Schedule(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	as, ps := recordLists(answers, pres)
	sum := cell.Summarize(m.Start.In(loc), roster, as, ps, m.Guests, sched.Target)
	// Outcomes first, the state last: a /close cut short is done again whole.
	if err := b.p.Store.SetOutcomes(r.ctx, r.cell.ID, m.ID, sum.Outcomes); err != nil {
		return err
	}
	shown, err := b.p.Store.CheckinState(r.ctx, r.cell.ID)
	if err != nil && !errors.Is(err, storage.ErrNoCheckin) {
		return err
	}
	if err := b.p.Store.CloseCheckin(r.ctx, r.cell.ID, m.ID); err != nil {
		return err
	}
	// The QR and code still held up in the room say check-in ended.
	if shown.MeetingID == m.ID {
		if _, err := b.p.Delivery.Enqueue(r.ctx, scheduler.CheckinEndedEdits(shown, r.cell.ID, m.Start.In(loc))...); err != nil {
			return err
		}
	}
	if _, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, m.ID, func(m *cell.Meeting) error {
		m.State = cell.StateClosed
		m.Closed = b.p.Now()
		return nil
	}); err != nil {
		return err
	}
	id := "close:" + r.update.Key()
	if err := b.notifyCommittee(r.ctx, *r.cell, id, 0, false, func(lang string) (string, *telegram.InlineKeyboardMarkup) {
		return summaryText(lang, m, sum, loc), summaryKeyboard(lang, r.cell.ID, m.ID)
	}); err != nil {
		return err
	}
	if r.cell.ChatID != 0 {
		lang := r.cell.Lang
		if !texts.Supported(lang) {
			lang = texts.VI
		}
		// Its message id is recorded for a correction to edit the counts.
		if err := b.queueTextAs(r, id+":group", r.cell.ChatID, groupCountsText(lang, m, sum, loc), closeGroupName(r.cell.ID, m.ID)); err != nil {
			return err
		}
	}
	if err := b.absenceAlerts(r, m, roster, loc); err != nil {
		return err
	}
	b.minutesAfterClose(r, m.ID)
	if r.chat.IsPrivate() && r.isCommittee() {
		// The summary itself comes through the queue to every committee member.
		r.reply(r.t(texts.CloseDone))
	}
	return nil
}

// rateText is the attendance rate as a person writes it: "84,3%" in Vietnamese.
func rateText(lang string, s cell.Summary) string {
	out := fmt.Sprintf("%.1f%%", 100*s.Rate())
	if lang != texts.EN {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

func joinNames(ms []cell.Member) string {
	if len(ms) == 0 {
		return "—"
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = texts.Escape(m.Name)
	}
	return strings.Join(names, ", ")
}

// summaryText is the committee's summary of a closed meeting, with every name.
func summaryText(lang string, m cell.Meeting, s cell.Summary, loc *time.Location) string {
	met := texts.T(lang, texts.CloseTargetMissed)
	if s.MeetsTarget() {
		met = texts.T(lang, texts.CloseTargetMet)
	}
	lines := []string{
		texts.T(lang, texts.CloseSummary, texts.DateTime(lang, m.Start.In(loc)), s.PresentExpected(), s.Expected, rateText(lang, s), s.TargetPercent, met),
	}
	// Which part of the target fails: the rate, or someone absent without reason.
	var why []string
	if !s.RateAboveTarget() {
		why = append(why, texts.T(lang, texts.CloseTargetRate, rateText(lang, s), s.TargetPercent))
	}
	if n := len(s.AbsentNoReason); n > 0 {
		why = append(why, texts.T(lang, texts.CloseTargetAbsent, n))
	}
	if len(why) > 0 {
		lines = append(lines, texts.T(lang, texts.CloseTargetWhy, strings.Join(why, "; ")))
	}
	lines = append(lines, texts.T(lang, texts.CloseTotal, s.Total.All(), s.Total.Official, s.Total.Probationary))
	if len(s.Attached) > 0 {
		lines = append(lines, texts.T(lang, texts.CloseAttached, len(s.Attached), joinNames(s.Attached)))
	}
	lines = append(lines,
		texts.T(lang, texts.CloseOfficial, len(s.PresentOfficial), joinNames(s.PresentOfficial)),
		texts.T(lang, texts.CloseProbationary, len(s.PresentProbationary), joinNames(s.PresentProbationary)),
	)
	if len(s.PresentAttached) > 0 {
		lines = append(lines, texts.T(lang, texts.CloseAttachedCame, len(s.PresentAttached), joinNames(s.PresentAttached)))
	}
	lines = append(lines, texts.T(lang, texts.CloseNotExpected, len(s.PresentNotExpected), joinNames(s.PresentNotExpected)))
	if line := methodsLine(lang, s); line != "" {
		lines = append(lines, line)
	}
	// Those who asked to be excused without a reason count as excused and are
	// listed apart, on a line of their own under the excused.
	stated := s.Stated()
	excused := make([]string, len(stated))
	for i, e := range stated {
		reason := texts.T(lang, texts.ReasonOther)
		if k, ok := reasonKey(e.Reason); ok {
			reason = texts.T(lang, k)
		}
		if e.Text != "" {
			reason += ": " + texts.Escape(e.Text)
		}
		excused[i] = texts.Escape(e.Member.Name) + " (" + reason + ")"
	}
	ex := "—"
	if len(excused) > 0 {
		ex = strings.Join(excused, ", ")
	}
	guests := make([]string, len(s.Guests))
	for i, g := range s.Guests {
		guests[i] = texts.Escape(g.Name)
		if g.Title != "" {
			guests[i] += " — " + texts.Escape(g.Title)
		}
	}
	gs := "—"
	if len(guests) > 0 {
		gs = strings.Join(guests, "; ")
	}
	v := s.Vote
	lines = append(lines, texts.T(lang, texts.CloseExcused, len(s.Excused), ex))
	if unstated := s.Unstated(); len(unstated) > 0 {
		lines = append(lines, texts.T(lang, texts.CloseUnstated, len(unstated), joinNames(unstated)))
	}
	lines = append(lines,
		texts.T(lang, texts.CloseAbsent, len(s.AbsentNoReason), joinNames(s.AbsentNoReason)),
		texts.T(lang, texts.CloseComingNotCame, len(s.ComingNotCame), joinNames(s.ComingNotCame)),
		texts.T(lang, texts.CloseGuests, len(s.Guests), gs),
		texts.T(lang, texts.CloseVote, v.Official, v.Away, v.ExemptAbsent, v.Excused, v.Base, v.Threshold),
	)
	lines = append(lines, ballotLines(lang, m)...)
	return strings.Join(lines, "\n")
}

// queueText sends one text through the delivery queue with a fixed id.
func (b *Bot) queueText(r *request, id string, chatID int64, text string) error {
	return b.queueTextAs(r, id, chatID, text, "")
}

// queueTextAs is queueText recording the id of the message sent under result
// (delivery.Ref refers to it), when not "".
func (b *Bot) queueTextAs(r *request, id string, chatID int64, text, result string) error {
	// The lines carry their own tags, so a cut between lines keeps the HTML whole.
	_, err := b.p.Delivery.Enqueue(r.ctx, delivery.Message{
		ID:       id,
		To:       storage.QueueRecipient{CellID: r.cell.ID, ChatID: chatID},
		Parts:    delivery.TextParts(chatID, delivery.Split(text, delivery.MaxText), nil),
		Purpose:  "summary",
		Priority: storage.PriorityUrgent,
		Result:   result,
	})
	return err
}

// absenceAlerts tells the committee of the absence alerts this meeting fires,
// all of them in one message to each committee member: a /close that raises
// forty alerts would otherwise make a phone buzz forty times.
//
// The message is queued before the alerts are marked sent, under an id made
// from the alerts it lists: a /close cut short after queueing is done again
// whole and its message is the one already queued, while a later run that
// finds other alerts (after a correction) gets a message of its own.
func (b *Bot) absenceAlerts(r *request, m cell.Meeting, roster []cell.Member, loc *time.Location) error {
	from := time.Date(m.Start.In(loc).Year()-1, 1, 1, 0, 0, 0, 0, loc)
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, from, m.Start.Add(time.Second))
	if err != nil {
		return err
	}
	outcomes := make(map[int64]map[int64]cell.Outcome, len(ms))
	var closed []cell.Meeting
	for _, mm := range ms {
		if mm.State != cell.StateClosed && mm.ID != m.ID {
			continue
		}
		o, err := b.p.Store.Outcomes(r.ctx, r.cell.ID, mm.ID)
		if err != nil {
			return err
		}
		outcomes[mm.ID] = o
		closed = append(closed, mm)
	}
	type memberAlert struct {
		member cell.Member
		alert  cell.Alert
	}
	var due []memberAlert
	for _, mem := range roster {
		if mem.Left != "" {
			continue // nobody is alerted about a member who has left
		}
		var history []cell.Attendance
		for _, mm := range closed {
			if o, ok := outcomes[mm.ID][mem.ID]; ok {
				history = append(history, cell.Attendance{MeetingID: mm.ID, Start: mm.Start, Outcome: o})
			}
		}
		for _, a := range cell.AbsenceAlerts(history, m.ID, loc) {
			sent, err := b.p.Store.AlertSent(r.ctx, r.cell.ID, string(a.Kind), mem.ID, m.ID)
			if err != nil {
				return err
			}
			if !sent {
				due = append(due, memberAlert{mem, a})
			}
		}
	}
	if len(due) == 0 {
		return nil
	}
	// Alerts of one kind together, absences without reason first: the heavier.
	slices.SortStableFunc(due, func(x, y memberAlert) int {
		return cmp.Compare(alertOrder(x.alert.Kind), alertOrder(y.alert.Kind))
	})
	h := fnv.New64a()
	for _, d := range due {
		fmt.Fprintf(h, "%s:%d;", d.alert.Kind, d.member.ID)
	}
	id := fmt.Sprintf("alerts:%d:%d:%x", r.cell.ID, m.ID, h.Sum64())
	start := m.Start.In(loc)
	err = b.notifyCommittee(r.ctx, *r.cell, id, 0, false, func(lang string) (string, *telegram.InlineKeyboardMarkup) {
		lines := []string{texts.T(lang, texts.AlertHead, texts.DateTime(lang, start))}
		for _, d := range due {
			days := make([]string, len(d.alert.Meetings))
			for i, at := range d.alert.Meetings {
				days[i] = at.Start.In(loc).Format("02/01/2006")
			}
			name := texts.Escape(d.member.Name)
			if d.alert.Kind == cell.AlertAbsentInYear {
				lines = append(lines, texts.T(lang, texts.AlertAbsentYear, name, d.alert.Months, start.Year(), strings.Join(days, ", ")))
			} else {
				lines = append(lines, texts.T(lang, texts.AlertExcusedRow, name, len(d.alert.Meetings), strings.Join(days, ", ")))
			}
		}
		return strings.Join(lines, "\n"), nil
	})
	if err != nil {
		return err
	}
	for _, d := range due {
		if _, err := b.p.Store.MarkAlertSent(r.ctx, r.cell.ID, string(d.alert.Kind), d.member.ID, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// alertOrder puts absences without reason before runs of excused absences.
func alertOrder(k cell.AlertKind) int {
	if k == cell.AlertAbsentInYear {
		return 0
	}
	return 1
}

// codeRefused is the answer to a check-in code the store refused: locked out
// after too many tries, a wrong code with the tries left, or the error itself.
func (b *Bot) codeRefused(r *request, err error) error {
	switch {
	case errors.Is(err, storage.ErrLockedOut):
		return texts.Errorf(texts.CheckinLocked)
	case errors.Is(err, storage.ErrWrongCode):
		left := storage.CheckinTries - b.checkinTries(r)
		if left <= 0 {
			return texts.Errorf(texts.CheckinLocked)
		}
		return texts.Errorf(texts.CheckinWrong, left)
	}
	return err
}

// recordLists are a meeting's answers and presences, as the store keys them
// by member, in the lists cell.Summarize and cell.Correct take.
func recordLists(answers map[int64]cell.Answer, pres map[int64]cell.Presence) ([]cell.Answer, []cell.Presence) {
	as := make([]cell.Answer, 0, len(answers))
	for id, a := range answers {
		a.MemberID = id
		as = append(as, a)
	}
	ps := make([]cell.Presence, 0, len(pres))
	for _, p := range pres {
		ps = append(ps, p)
	}
	return as, ps
}
