package bot

import (
	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// A request under a name that is not on the roster adds a new member: the
// committee member who confirms it says first what the newcomer's standing and
// participation are, since no roster line says it.

// Verbs of a newcomer's confirmation (buttons.go has the others).
const (
	verbJoinStanding = "jt" // cell, user, request's time, standing code (standingCodes)
	verbJoinPart     = "ju" // cell, user, request's time, standing code × len(partCodes) + participation code
)

// newcomerStanding is the standing and participation a confirmed request adds
// its member with. For a request under a new name it asks the committee member
// (ok false) until both were chosen; a request for a roster entry keeps the
// entry's.
func (b *Bot) newcomerStanding(r *request, c cell.Cell, req storage.JoinRequest) (cell.Standing, cell.Participation, bool) {
	if req.MemberID != 0 {
		return cell.Official, cell.Regular, true
	}
	st := int(r.button.arg(3))
	switch r.button.verb {
	case verbJoinPart:
		// Both choices in one argument: callback data has room for four.
		code := int(r.button.arg(3))
		st, p := code/len(partCodes), code%len(partCodes)
		if code >= 0 && st < len(standingCodes) {
			return standingCodes[st], partCodes[p], true
		}
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return "", "", false
	case verbJoinStanding:
		if st < 0 || st >= len(standingCodes) {
			r.answerCallback(r.t(texts.CommonButtonExpired), true)
			return "", "", false
		}
		var parts []telegram.InlineKeyboardButton
		for i := range partCodes {
			parts = append(parts, cb(r.t(partButtonKeys[i]), verbJoinPart, c.ID, req.UserID, req.At, int64(st*len(partCodes)+i)))
		}
		r.answerCallback("", false)
		r.edit(r.t(texts.JoinAskPart, texts.Escape(req.Name), r.t(standingKey(standingCodes[st]))),
			keyboard(parts[:2], parts[2:], row(cb(r.t(texts.JoinReject), verbJoinReject, c.ID, req.UserID, req.At))))
		return "", "", false
	}
	r.answerCallback("", false)
	r.edit(r.t(texts.JoinAskStanding, texts.Escape(req.Name)), keyboard(
		row(cb(r.t(texts.JoinStandingOfficial), verbJoinStanding, c.ID, req.UserID, req.At, 0),
			cb(r.t(texts.JoinStandingProbationary), verbJoinStanding, c.ID, req.UserID, req.At, 1)),
		row(cb(r.t(texts.JoinReject), verbJoinReject, c.ID, req.UserID, req.At))))
	return "", "", false
}
