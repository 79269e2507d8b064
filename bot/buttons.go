package bot

import (
	"errors"
	"strconv"
	"strings"

	"github.com/cellbot/cellbot/scheduler"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
)

// Callback data is "1:<verb>:<arg>:<arg>…", version 1, with integers in base 36,
// always well under Telegram's 64 bytes (buttons_test.go checks every keyboard).
// Callback data comes from the client and is checked again by each handler.
const buttonVersion = "1"

// Verbs.
const (
	verbJoinPick    = "jp"               // cell, member: "I am this roster entry"
	verbJoinNew     = "jn"               // cell: "I am not on the roster"
	verbJoinConfirm = "jc"               // cell, user
	verbJoinReject  = "jr"               // cell, user
	verbPage        = "mp"               // cell, page of /members
	verbCard        = "mc"               // cell, member
	verbSetPart     = "ms"               // cell, member, participation code
	verbStanding    = "mt"               // cell, member
	verbRole        = "mr"               // cell, member, 1 promote / 0 demote
	verbPick        = "pk"               // cell, member: the choice among members of the same name
	verbRSVP        = scheduler.VerbRSVP // cell, meeting, answer (scheduler.RSVPData makes them)
	verbReason      = "rr"               // cell, meeting, reason (1–4)
	verbRollCall    = "rc"               // cell, meeting, member, page: toggle present / absent
	verbRollPage    = "rp"               // cell, meeting, page of /attendance
	verbAnswerFor   = "ra"               // cell, member, meeting, answer code: the committee answers for a member without Telegram
	verbCardPresent = "cp"               // cell, member, meeting, mark (1 present, 0 absent): the committee checks in for them from their card

	// the secretary's own roster entry
	verbSelfLink = "sl" // cell, member: the unlisted importer is this roster entry
	verbSelfNone = "sn" // cell: the unlisted importer is not on the roster
	verbSelfPage = "sp" // cell, page: a page of the whole roster for the unlisted importer

	// verbNoop is the label between a list's arrows ("Trang 2/5"): pressing it
	// shows the page already shown, so it only stops the spinner.
	verbNoop = "nx" // cell

	verbJoinWithdraw = "jw" // cell, request's time (unix ns): the user withdraws their pending request
)

type button struct {
	verb string
	args []int64
}

func (b button) arg(i int) int64 {
	if i < len(b.args) {
		return b.args[i]
	}
	return 0
}

func encodeButton(verb string, args ...int64) string {
	var sb strings.Builder
	sb.WriteString(buttonVersion)
	sb.WriteByte(':')
	sb.WriteString(verb)
	for _, a := range args {
		sb.WriteByte(':')
		sb.WriteString(strconv.FormatInt(a, 36))
	}
	return sb.String()
}

var errBadButton = errors.New("bad button")

func decodeButton(s string) (button, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || parts[0] != buttonVersion || len(parts) > 6 {
		return button{}, errBadButton
	}
	b := button{verb: parts[1]}
	for _, p := range parts[2:] {
		n, err := strconv.ParseInt(p, 36, 64)
		if err != nil {
			return button{}, errBadButton
		}
		b.args = append(b.args, n)
	}
	return b, nil
}

func cb(label, verb string, args ...int64) telegram.InlineKeyboardButton {
	return telegram.InlineKeyboardButton{Text: label, CallbackData: encodeButton(verb, args...)}
}

func keyboard(rows ...[]telegram.InlineKeyboardButton) *telegram.InlineKeyboardMarkup {
	return &telegram.InlineKeyboardMarkup{InlineKeyboard: rows}
}

func row(buttons ...telegram.InlineKeyboardButton) []telegram.InlineKeyboardButton { return buttons }

// pageNav is the row under a list of pages: ◀️, the page's label ("Trang
// 2/5"), ▶️; turn makes the button that shows page to. Nil for one page.
func pageNav(r *request, page, pages int, turn func(label string, to int) telegram.InlineKeyboardButton) []telegram.InlineKeyboardButton {
	if pages <= 1 {
		return nil
	}
	var nav []telegram.InlineKeyboardButton
	if page > 0 {
		nav = append(nav, turn("◀️", page-1))
	}
	nav = append(nav, cb(r.t(texts.AttendanceMore, page+1, pages), verbNoop, r.cell.ID))
	if page < pages-1 {
		nav = append(nav, turn("▶️", page+1))
	}
	return nav
}

// noop answers a press of a list's page label: the page it names is the one
// shown, and an edit to itself Telegram refuses as not modified.
func (b *Bot) noop(r *request) error {
	r.answerCallback("", false)
	return nil
}
