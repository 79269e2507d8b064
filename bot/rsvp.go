package bot

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// dialogueReason waits for the text of an "other" absence reason.
const dialogueReason = "reason"

// maxReason is the longest absence reason taken, in characters.
const maxReason = 200

var reasonButtons = []struct {
	key    texts.Key
	reason cell.ReasonCategory
}{
	{texts.ReasonWork, cell.ReasonWork},
	{texts.ReasonIllness, cell.ReasonIllness},
	{texts.ReasonFamily, cell.ReasonFamily},
	{texts.ReasonOther, cell.ReasonOther},
}

func reasonKey(rc cell.ReasonCategory) (texts.Key, bool) {
	for _, b := range reasonButtons {
		if b.reason == rc {
			return b.key, true
		}
	}
	return "", false
}

// reasonKeyboard is the reason buttons, then the three answers again.
func reasonKeyboard(lang string, cellID, meetingID int64) *telegram.InlineKeyboardMarkup {
	var rows [][]telegram.InlineKeyboardButton
	for i, b := range reasonButtons {
		rows = append(rows, row(cb(texts.T(lang, b.key), verbReason, cellID, meetingID, int64(i+1))))
	}
	return keyboard(append(rows, scheduler.RSVPKeyboard(lang, cellID, meetingID).InlineKeyboard...)...)
}

// answerLabel is a member's answer in words: "❌ Xin vắng (🤒 Ốm đau)".
func answerLabel(lang string, a cell.Answer) string {
	var s string
	switch a.Kind {
	case cell.Coming:
		s = texts.T(lang, texts.RSVPComing)
	case cell.Excused:
		s = texts.T(lang, texts.RSVPExcused)
		if k, ok := reasonKey(a.Reason); ok {
			s += " (" + texts.T(lang, k) + ")"
		}
	case cell.Unsure:
		s = texts.T(lang, texts.RSVPUnsure)
	}
	return s
}

// pressAnswer records the answer a button gives, checking in the same step that
// the meeting still takes answers; a refusal is answered. The press is answered
// as soon as the answer is stored (and the group's counts marked).
func (b *Bot) pressAnswer(r *request, meetingID int64, a cell.Answer, reply string) (cell.Meeting, bool, error) {
	a.MemberID, a.At = r.member.ID, b.p.Now()
	m, err := b.p.Store.Answer(r.ctx, r.cell.ID, meetingID, a, b.p.Now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		b.refusePress(r, r.t(texts.CommonButtonExpired))
		return m, false, nil
	case errors.Is(err, storage.ErrClosed) && m.State == cell.StateCancelled:
		b.refusePress(r, r.t(texts.RSVPCancelled))
		return m, false, nil
	case errors.Is(err, storage.ErrClosed):
		b.refusePress(r, r.t(texts.RSVPClosed))
		return m, false, nil
	case err != nil:
		return m, false, err
	}
	r.answerCallback(reply, false)
	return m, true, nil
}

// rsvp is a press of an RSVP button: cell, meeting, answer. The route has checked
// the presser is a member of the button's cell.
func (b *Bot) rsvp(r *request) error {
	meetingID, answer := r.button.arg(1), int(r.button.arg(2))
	var a cell.Answer
	switch answer {
	case scheduler.RSVPComing:
		a.Kind = cell.Coming
	case scheduler.RSVPExcused:
		a.Kind = cell.Excused
	case scheduler.RSVPUnsure:
		a.Kind = cell.Unsure
	default:
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	private := r.chat.IsPrivate()
	reply := r.t(texts.RSVPRecorded, answerLabel(r.lang, a))
	switch {
	case a.Kind == cell.Excused && private:
		reply = ""
	case a.Kind == cell.Excused:
		reply = r.t(texts.RSVPReasonPrivate)
	}
	m, ok, err := b.pressAnswer(r, meetingID, a, reply)
	if err != nil || !ok {
		return err
	}
	a.MemberID = r.member.ID
	switch {
	case a.Kind == cell.Excused && private:
		r.edit(b.answeredText(r, m, a)+"\n\n"+r.t(texts.RSVPAskReason), reasonKeyboard(r.lang, r.cell.ID, m.ID))
	case a.Kind == cell.Excused:
		// In the group: the reason is asked privately, never in front of everyone.
		_, _ = r.send(r.from.ID, b.answeredText(r, m, a)+"\n\n"+r.t(texts.RSVPAskReason), reasonKeyboard(r.lang, r.cell.ID, m.ID))
	case private:
		r.edit(b.answeredText(r, m, a), scheduler.RSVPKeyboard(r.lang, r.cell.ID, m.ID))
	}
	return nil
}

// refusePress says why a press changed nothing: as the press's answer, and, in
// a private chat (where the press may have been answered on arrival), in place
// of the message's buttons.
func (b *Bot) refusePress(r *request, text string) {
	r.answerCallback(text, true)
	if r.chat.IsPrivate() {
		r.edit(text, nil)
	}
}

// answeredText is the meeting's notice with the member's answer under it.
func (b *Bot) answeredText(r *request, m cell.Meeting, a cell.Answer) string {
	return scheduler.NoticeText(r.lang, *r.cell, m) + "\n\n" + r.t(texts.RSVPYourAnswer, answerLabel(r.lang, a))
}

// rsvpReason is a press of a reason button: cell, meeting, reason (1–4).
func (b *Bot) rsvpReason(r *request) error {
	i := int(r.button.arg(2)) - 1
	if i < 0 || i >= len(reasonButtons) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	rc := reasonButtons[i].reason
	a := cell.Answer{Kind: cell.Excused, Reason: rc}
	reply := r.t(texts.RSVPRecorded, answerLabel(r.lang, a))
	if rc == cell.ReasonOther {
		reply = ""
	}
	m, ok, err := b.pressAnswer(r, r.button.arg(1), a, reply)
	if err != nil || !ok {
		return err
	}
	a.MemberID = r.member.ID
	if rc == cell.ReasonOther {
		d := storage.Dialogue{Kind: dialogueReason, CellID: r.cell.ID, Data: map[string]string{"meeting": strconv.FormatInt(m.ID, 10)}}
		if err := b.p.Store.SetDialogue(r.ctx, r.from.ID, d, dialogueTTL); err != nil {
			return err
		}
		r.edit(b.answeredText(r, m, a)+"\n\n"+r.t(texts.RSVPAskReasonText), nil)
		return nil
	}
	r.edit(b.answeredText(r, m, a), scheduler.RSVPKeyboard(r.lang, r.cell.ID, m.ID))
	return nil
}

// reasonText is the typed reason of an "other" absence.
func (b *Bot) reasonText(r *request) error {
	d, err := b.p.Store.DialogueOf(r.ctx, r.from.ID)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(r.msg.Text)
	if text == "" {
		return texts.Errorf(texts.RSVPAskReasonText)
	}
	if n := utf8.RuneCountInString(text); n > maxReason {
		return texts.Errorf(texts.RSVPReasonTooLong, n, maxReason)
	}
	meetingID, _ := strconv.ParseInt(d.Data["meeting"], 10, 64)
	if r.cell == nil || r.cell.ID != d.CellID || r.member == nil {
		_, _ = b.p.Store.ClearDialogue(r.ctx, r.from.ID)
		return texts.Errorf(texts.CommonButtonExpired)
	}
	if _, err := b.p.Store.ClearDialogue(r.ctx, r.from.ID); err != nil {
		return err
	}
	a := cell.Answer{MemberID: r.member.ID, Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: text, At: b.p.Now()}
	_, err = b.p.Store.Answer(r.ctx, d.CellID, meetingID, a, b.p.Now())
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrClosed):
		return texts.Errorf(texts.RSVPClosed)
	case err != nil:
		return err
	}
	r.reply(r.t(texts.RSVPReasonSaved))
	return nil
}

// rsvpCommand is /rsvp: the next meeting with the RSVP buttons and the member's
// current answer.
func (b *Bot) rsvpCommand(r *request) error {
	if r.member == nil {
		return texts.Errorf(texts.CommonNoCellPrivate)
	}
	m, err := b.nextMeeting(r)
	if err != nil {
		return err
	}
	answers, err := b.p.Store.Answers(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return err
	}
	text := scheduler.NoticeText(r.lang, *r.cell, m)
	if a, ok := answers[r.member.ID]; ok {
		text += "\n\n" + r.t(texts.RSVPYourAnswer, answerLabel(r.lang, a))
	}
	r.replyKB(text, scheduler.RSVPKeyboard(r.lang, r.cell.ID, m.ID))
	return nil
}
