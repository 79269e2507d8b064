package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/minutes"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// voteWithin is how long after /close a vote may still be recorded: the
// secretary often types the figures in once home.
const voteWithin = 24 * time.Hour

// maxAmbiguous is how many names a "which one?" answer lists.
const maxAmbiguous = 5

// parent is /parent <name>: the parent organisation that heads the minutes.
func (b *Bot) parent(r *request) error {
	name, n, err := cell.Line(r.args, cell.MaxPlaceLen)
	switch {
	case errors.Is(err, cell.ErrUnreadable):
		return texts.Errorf(texts.ParentUsage)
	case errors.Is(err, cell.ErrTooLong):
		return texts.Errorf(texts.ParentTooLong, n, cell.MaxPlaceLen)
	}
	if err := b.p.Store.SetCellParent(r.ctx, r.cell.ID, name); err != nil {
		return err
	}
	r.reply(r.t(texts.ParentDone, texts.Escape(name)))
	return nil
}

// recordMeeting is the meeting /topic, /chair and /minutetaker set: the one
// under way (or about to begin), else the next one.
func (b *Bot) recordMeeting(r *request) (cell.Meeting, error) {
	m, ok, _, err := b.currentMeeting(r)
	if err != nil || ok {
		return m, err
	}
	return b.nextMeeting(r)
}

// topic is /topic <text>: the meeting's title, a topical meeting's subject.
func (b *Bot) topic(r *request) error {
	title, n, err := cell.Line(r.args, cell.MaxPlaceLen)
	switch {
	case errors.Is(err, cell.ErrUnreadable):
		return texts.Errorf(texts.TopicUsage)
	case errors.Is(err, cell.ErrTooLong):
		return texts.Errorf(texts.TopicTooLong, n, cell.MaxPlaceLen)
	}
	m, err := b.recordMeeting(r)
	if err != nil {
		return err
	}
	if _, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, m.ID, func(m *cell.Meeting) error {
		m.Title = title
		return nil
	}); err != nil {
		return err
	}
	r.reply(r.t(texts.TopicDone, texts.Escape(title), texts.DateTime(r.lang, m.Start.In(r.location()))))
	return nil
}

// chair is /chair <member> and /minutetaker <member>. A name that matches
// several members is answered with their names, and nothing is stored.
func (b *Bot) chair(r *request) error {
	query := strings.Join(strings.Fields(cell.StripInvisible(r.args)), " ")
	if query == "" {
		return texts.Errorf(texts.ChairUsage, r.cmd)
	}
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	var listed []cell.Member
	for _, m := range cell.Listed(roster) {
		if !m.OffRoster {
			listed = append(listed, m)
		}
	}
	matches := cell.Match(listed, query)
	switch {
	case len(matches) == 0:
		return texts.Errorf(texts.MemberNotFound, echo(query))
	case len(matches) > 1:
		names := make([]string, 0, maxAmbiguous)
		for i, m := range sortedRoster(matches) {
			if i == maxAmbiguous {
				names = append(names, "…")
				break
			}
			names = append(names, texts.Escape(m.Name))
		}
		return texts.Errorf(texts.ChairAmbiguous, len(matches), echo(query), strings.Join(names, ", "))
	}
	who := matches[0]
	m, err := b.recordMeeting(r)
	if err != nil {
		return err
	}
	if _, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, m.ID, func(m *cell.Meeting) error {
		if r.cmd == "chair" {
			m.Chair = who.ID
		} else {
			m.MinuteTaker = who.ID
		}
		return nil
	}); err != nil {
		return err
	}
	key := texts.MinuteTakerDone
	if r.cmd == "chair" {
		key = texts.ChairDone
	}
	r.reply(r.t(key, texts.Escape(who.Name), texts.DateTime(r.lang, m.Start.In(r.location()))))
	return nil
}

// parseVote reads "<for> <against> [<abstain>] [matter]".
func parseVote(args string) (figures []int, matter string, err error) {
	words := strings.Fields(args)
	i := 0
	for ; i < len(words) && i < 3; i++ {
		n, err := strconv.Atoi(strings.TrimRight(words[i], ",;"))
		if err != nil {
			break
		}
		figures = append(figures, n)
	}
	if len(figures) < 2 {
		return nil, "", texts.Errorf(texts.VoteUsage)
	}
	for _, n := range figures {
		if n < 0 {
			return nil, "", texts.Errorf(texts.VoteNegative)
		}
	}
	if len(figures) == 2 {
		figures = append(figures, 0)
	}
	rest := strings.Join(words[i:], " ")
	if strings.TrimSpace(rest) == "" {
		return figures, "", nil
	}
	matter, n, err := cell.Line(rest, cell.MaxPlaceLen)
	switch {
	case errors.Is(err, cell.ErrTooLong):
		return nil, "", texts.Errorf(texts.VoteMatterTooLong, n, cell.MaxPlaceLen)
	case errors.Is(err, cell.ErrUnreadable):
		matter = ""
	}
	return figures, matter, nil
}

// voteMeeting is the meeting a vote belongs to: the one under way (the one
// checking in first, else one started and not closed), else the one closed
// within the last day.
func (b *Bot) voteMeeting(r *request) (cell.Meeting, bool, error) {
	now := b.p.Now()
	checkin, err := b.p.Store.OpenCheckinMeeting(r.ctx, r.cell.ID)
	if err != nil && !errors.Is(err, storage.ErrNoCheckin) {
		return cell.Meeting{}, false, err
	}
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, now.Add(-closeWithin), now.Add(checkinOpens))
	if err != nil {
		return cell.Meeting{}, false, err
	}
	for _, m := range ms {
		if m.ID == checkin && m.State == cell.StateCheckin {
			return m, true, nil
		}
	}
	var closed *cell.Meeting
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		switch {
		case m.State == cell.StateCheckin, m.State == cell.StateScheduled && !m.Start.After(now):
			return m, true, nil
		case m.State == cell.StateClosed && closed == nil:
			end := m.Closed
			if end.IsZero() {
				end = m.Start
			}
			if now.Sub(end) <= voteWithin {
				closed = &ms[i]
			}
		}
	}
	if closed != nil {
		return *closed, true, nil
	}
	return cell.Meeting{}, false, nil
}

// vote is /vote <for> <against> [<abstain>] [matter]: a vote taken at the
// meeting, checked against the members present who may vote and held against
// the vote base. The same matter again replaces it.
func (b *Bot) vote(r *request) error {
	figures, matter, err := parseVote(r.args)
	if err != nil {
		return err
	}
	m, ok, err := b.voteMeeting(r)
	if err != nil {
		return err
	}
	if !ok {
		return texts.Errorf(texts.VoteNoMeeting)
	}
	loc := r.location()
	sum, roster, pres, err := b.meetingSummary(r.ctx, r.cell.ID, m, loc)
	if err != nil {
		return err
	}
	voters := cell.Voters(m.Start.In(loc), roster, pres)
	ballot, err := cell.NewBallot(matter, figures[0], figures[1], figures[2], voters, sum.Vote, b.p.Now())
	switch {
	case errors.Is(err, cell.ErrVoteNegative):
		return texts.Errorf(texts.VoteNegative)
	case errors.Is(err, cell.ErrVoteTooMany):
		return texts.Errorf(texts.VoteTooMany, figures[0]+figures[1]+figures[2], voters)
	case err != nil:
		return err
	}
	replaced := false
	if _, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, m.ID, func(m *cell.Meeting) error {
		replaced = m.SetBallot(ballot)
		return nil
	}); err != nil {
		return err
	}
	name := matter
	if name == "" {
		name = r.t(texts.VoteUnnamed)
	}
	outcome := r.t(texts.VoteNotPassed)
	if ballot.Passed() {
		outcome = r.t(texts.VotePassed)
	}
	text := r.t(texts.VoteDone, texts.Escape(name), texts.DateTime(r.lang, m.Start.In(loc)), ballot.For, ballot.Against, ballot.Abstain,
		ballot.Voters, ballot.Base, ballot.Threshold, outcome)
	if replaced {
		text += "\n" + r.t(texts.VoteReplaced)
	}
	r.reply(text)
	return nil
}

// ballotLines are the votes of a meeting, a line each, for the committee's
// summary.
func ballotLines(lang string, m cell.Meeting) []string {
	lines := make([]string, 0, len(m.Ballots))
	for i, b := range m.Ballots {
		name := b.Matter
		if name == "" {
			name = fmt.Sprintf("%s %d", texts.T(lang, texts.VoteUnnamed), i+1)
		}
		outcome := texts.T(lang, texts.VoteNotPassed)
		if b.Passed() {
			outcome = texts.T(lang, texts.VotePassed)
		}
		lines = append(lines, texts.T(lang, texts.CloseBallot, texts.Escape(name), b.For, b.Against, b.Abstain, b.Threshold, outcome))
	}
	return lines
}

// meetingSummary works out a meeting's summary from the stored answers and
// presence, as /close and the reports do; it returns the roster and presence
// it read too.
func (b *Bot) meetingSummary(ctx context.Context, cellID int64, m cell.Meeting, loc *time.Location) (cell.Summary, []cell.Member, map[int64]cell.Presence, error) {
	roster, err := b.p.Store.Members(ctx, cellID)
	if err != nil {
		return cell.Summary{}, nil, nil, err
	}
	answers, err := b.p.Store.Answers(ctx, cellID, m.ID)
	if err != nil {
		return cell.Summary{}, nil, nil, err
	}
	pres, err := b.p.Store.Presences(ctx, cellID, m.ID)
	if err != nil {
		return cell.Summary{}, nil, nil, err
	}
	sched, err := b.p.Store.Schedule(ctx, cellID)
	if err != nil {
		return cell.Summary{}, nil, nil, err
	}
	as, ps := recordLists(answers, pres)
	return cell.Summarize(m.Start.In(loc), roster, as, ps, m.Guests, sched.Target), roster, pres, nil
}

// minutesCommand is /minutes [dd/mm/yyyy]: the draft of the last closed
// meeting, or of the one closed on that day, to the committee.
func (b *Bot) minutesCommand(r *request) error {
	loc := r.location()
	now := b.p.Now()
	arg := strings.TrimSpace(r.args)
	from, to := now.AddDate(-2, 0, 0), now.Add(time.Second)
	if arg != "" {
		day, err := time.ParseInLocation("2/1/2006", arg, loc)
		if err != nil {
			return texts.Errorf(texts.MinutesUsage)
		}
		from, to = day, day.AddDate(0, 0, 1)
	}
	ms, err := b.p.Store.Meetings(r.ctx, r.cell.ID, from, to)
	if err != nil {
		return err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].State == cell.StateClosed {
			return b.sendMinutes(r, ms[i].ID, "minutes:"+r.update.Key())
		}
	}
	if arg != "" {
		return texts.Errorf(texts.MinutesNoneOn, echo(arg))
	}
	return texts.Errorf(texts.MinutesNone)
}

// minutesAfterClose sends the draft of a meeting just closed. The meeting is
// closed whatever happens to its draft, which /minutes sends again: a failure
// is logged, not reported as a failed /close.
func (b *Bot) minutesAfterClose(r *request, meetingID int64) {
	if err := b.sendMinutes(r, meetingID, "close-minutes:"+r.update.Key()); err != nil {
		r.log.Warn("minutes draft after close", "meeting", meetingID, "err", err)
	}
}

// sendMinutes renders the meeting's draft and sends it to every committee
// member with Telegram, privately: uploaded once, to the caller when they are
// on the committee, then sent to the others by its file id through the queue.
// Plain members and the group never get it.
func (b *Bot) sendMinutes(r *request, meetingID int64, id string) error {
	c := *r.cell
	m, err := b.p.Store.Meeting(r.ctx, c.ID, meetingID)
	if err != nil {
		return err
	}
	loc := r.location()
	sum, roster, _, err := b.meetingSummary(r.ctx, c.ID, m, loc)
	if err != nil {
		return err
	}
	var committee []cell.Member
	byID := map[int64]cell.Member{}
	for _, mem := range roster {
		byID[mem.ID] = mem
		if mem.Role.IsCommittee() && mem.UserID != 0 {
			committee = append(committee, mem)
		}
	}
	if len(committee) == 0 {
		return nil
	}
	// The caller first: their upload is the one they wait for.
	for i, mem := range committee {
		if mem.UserID == r.from.ID {
			committee[0], committee[i] = committee[i], committee[0]
			break
		}
	}
	langs, err := b.langsOf(r.ctx, c, committee)
	if err != nil {
		return err
	}
	d := minutes.Draft{
		Lang: c.Lang, Parent: c.Parent, Cell: c.Name, Meeting: m, Loc: loc, Ended: m.Closed,
		Roster: minutes.Count(roster, m.Start.In(loc)), Summary: sum,
	}
	if !texts.Supported(d.Lang) {
		d.Lang = texts.VI
	}
	chair := m.Chair
	if chair == 0 {
		for _, mem := range roster {
			if mem.Role == cell.RoleSecretary && !mem.Unlisted && !mem.OffRoster {
				chair = mem.ID
				break
			}
		}
	}
	d.Chair, d.MinuteTaker = byID[chair].Name, byID[m.MinuteTaker].Name
	data, err := minutes.Render(d)
	if err != nil {
		return err
	}
	name := minutes.FileName(m.Start.In(loc))
	caption := func(lang string) string {
		return texts.T(lang, texts.MinutesCaption, texts.DateTime(lang, m.Start.In(loc)))
	}
	// Upload to the first committee member Telegram takes it for; a member
	// who blocked the bot is skipped.
	var fileID string
	var rest []cell.Member
	for i, mem := range committee {
		var sent telegram.Message
		err := b.p.Telegram.Do(r.ctx, telegram.Upload{Name: "sendDocument", ChatID: mem.UserID, Field: "document",
			FileName: name, Data: data, Caption: caption(langs[mem.UserID])}, &sent)
		if err == nil && sent.Document != nil {
			fileID, rest = sent.Document.FileID, committee[i+1:]
			break
		}
		r.log.Warn("minutes upload", "member", mem.ID, "err", err)
	}
	if fileID == "" {
		return fmt.Errorf("minutes of meeting %d: no committee member could take the upload", m.ID)
	}
	msgs := make([]delivery.Message, 0, len(rest))
	for _, mem := range rest {
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("%s:%d", id, mem.ID),
			To:       storage.QueueRecipient{CellID: c.ID, MemberID: mem.ID, ChatID: mem.UserID, Name: mem.Name},
			Parts:    []telegram.Raw{delivery.RawOf(telegram.SendDocument{ChatID: mem.UserID, FileID: fileID, Caption: caption(langs[mem.UserID])})},
			Purpose:  "minutes",
			Priority: storage.PriorityUrgent,
		})
	}
	if len(msgs) > 0 {
		if _, err := b.p.Delivery.Enqueue(r.ctx, msgs...); err != nil {
			return fmt.Errorf("queue the minutes of meeting %d: %w", m.ID, err)
		}
	}
	r.log.Info("minutes draft sent", "meeting", m.ID, "committee", len(rest)+1, "bytes", len(data))
	return nil
}

// documentsLeadTime is how long before a meeting party rules want its documents
// in members' hands.
const documentsLeadTime = 24 * time.Hour

// agendaDocument is a file sent with the caption /agenda, or replied to with
// /agenda: it is attached to the next meeting and reaches every member, with
// the notice, or at once when the notice has gone. Telegram's file id is sent
// again; nothing is uploaded. The committee is warned when it goes less than a
// day before the meeting.
func (b *Bot) agendaDocument(r *request, doc *telegram.Document) error {
	next, err := b.nextMeeting(r)
	if err != nil {
		return texts.Errorf(texts.AgendaNoMeeting)
	}
	text := strings.TrimSpace(r.args)
	now := b.p.Now()
	m, err := b.p.Store.UpdateMeeting(r.ctx, r.cell.ID, next.ID, func(m *cell.Meeting) error {
		for _, d := range m.Documents {
			if d.FileID == doc.FileID {
				return nil
			}
		}
		m.Documents = append(m.Documents, cell.Document{FileID: doc.FileID, FileName: doc.FileName, At: now})
		if cell.Readable(text) {
			m.Agenda = agendaItems(text)
		}
		return nil
	})
	if err != nil {
		return err
	}
	loc := r.location()
	start := m.Start.In(loc)
	name := doc.FileName
	if name == "" {
		name = "…"
	}
	if m.Start.Sub(now) < documentsLeadTime {
		id := "agenda-late:" + r.update.Key()
		if err := b.notifyCommittee(r.ctx, *r.cell, id, 0, false, func(lang string) (string, *telegram.InlineKeyboardMarkup) {
			return texts.T(lang, texts.AgendaDocLate, texts.Escape(name), texts.DateTime(lang, start)), nil
		}); err != nil {
			return err
		}
	}
	notified, err := b.p.Store.Notified(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return err
	}
	if len(notified) == 0 {
		r.reply(r.t(texts.AgendaDocAttached, texts.Escape(name), texts.DateTime(r.lang, start)))
		return nil
	}
	cellName := texts.Escape(r.cell.Name)
	header := func(lang string) string {
		return "📋 <b>" + cellName + "</b>\n" + texts.T(lang, texts.AgendaForMeeting, texts.DateTime(lang, start))
	}
	if !cell.Readable(text) {
		text = ""
	}
	return b.deliver(r, "agenda", documentParts(header, doc.FileID, text), storage.PriorityBulk)
}
