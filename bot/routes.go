package bot

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

type handlerFunc func(r *request) error

// where a command may be used.
type place int

const (
	anywhere place = iota
	privateOnly
	groupOnly
)

// who may use a command.
type access int

const (
	anyone    access = iota
	member           // a member of the chat's cell
	committee        // the cell's committee
	secretary        // the cell's secretary
)

// command is a command's route, and how menus and /help show it: desc is its
// line in the menus of those who may use it (setMyCommands) and in their /help,
// word for word; example, when set, shows in /help how it is typed. A command
// without desc is in neither (/start).
type command struct {
	handle  handlerFunc
	where   place
	who     access
	long    bool // takes texts over one message (agenda, broadcast)
	desc    texts.Key
	example texts.Key
}

// callback is a button's route. A button whose who is not anyone carries its
// cell as its first argument; the presser's role is checked in that cell, since
// callback data is user input and the presser's current cell may have changed
// since the button was sent.
type callback struct {
	handle handlerFunc
	who    access
}

type routes struct {
	commands  map[string]command
	callbacks map[string]callback    // by verb, see buttons.go
	dialogues map[string]handlerFunc // by dialogue kind
}

// maxInput is the longest text the bot takes, but for agendas and broadcasts,
// which are split into several messages.
const (
	maxInput     = 4096
	maxLongInput = 12000
)

// newRoutes is the one table of everything the bot answers.
func (b *Bot) newRoutes() routes {
	return routes{
		commands: map[string]command{
			"start":     {handle: b.start},
			"help":      {handle: b.help, desc: texts.CmdHelp},
			"lang":      {handle: b.setLang, desc: texts.CmdLang, example: texts.ExampleLang},
			"cancel":    {handle: b.cancel, desc: texts.CmdCancel},
			"setup":     {handle: b.setup, where: groupOnly, desc: texts.CmdSetup, example: texts.ExampleSetup},
			"join":      {handle: b.joinPost, where: groupOnly, who: member, desc: texts.CmdJoin},
			"members":   {handle: b.members, where: privateOnly, who: committee, desc: texts.CmdMembers},
			"import":    {handle: b.importRoster, where: privateOnly, who: committee, desc: texts.CmdImport, example: texts.ExampleImport},
			"exempt":    {handle: b.participation, where: privateOnly, who: committee, desc: texts.CmdExempt, example: texts.ExampleExempt},
			"away":      {handle: b.participation, where: privateOnly, who: committee, desc: texts.CmdAway, example: texts.ExampleAway},
			"regular":   {handle: b.participation, where: privateOnly, who: committee, desc: texts.CmdRegular, example: texts.ExampleRegular},
			"attached":  {handle: b.participation, where: privateOnly, who: committee, desc: texts.CmdAttached, example: texts.ExampleAttached},
			"promote":   {handle: b.promote, where: privateOnly, who: secretary, desc: texts.CmdPromote, example: texts.ExamplePromote},
			"demote":    {handle: b.promote, where: privateOnly, who: secretary, desc: texts.CmdDemote, example: texts.ExampleDemote},
			"broadcast": {handle: b.broadcast, where: privateOnly, who: committee, long: true, desc: texts.CmdBroadcast, example: texts.ExampleBroadcast},
			"agenda":    {handle: b.agenda, who: committee, long: true, desc: texts.CmdAgenda, example: texts.ExampleAgenda},

			"meeting":       {handle: b.meeting, who: committee, desc: texts.CmdMeeting, example: texts.ExampleMeeting},
			"schedule":      {handle: b.schedule, who: committee, desc: texts.CmdSchedule, example: texts.ExampleSchedule},
			"holiday":       {handle: b.holiday, who: committee, desc: texts.CmdHoliday, example: texts.ExampleHoliday},
			"move":          {handle: b.move, who: committee, desc: texts.CmdMove, example: texts.ExampleMove},
			"cancelmeeting": {handle: b.cancelMeeting, who: committee, desc: texts.CmdCancelMeeting},
			"meetings":      {handle: b.meetings, who: member, desc: texts.CmdMeetings},
			"reminders":     {handle: b.reminders, who: committee, desc: texts.CmdReminders, example: texts.ExampleReminders},
			"quiet":         {handle: b.quiet, who: committee, desc: texts.CmdQuiet, example: texts.ExampleQuiet},
			"settings":      {handle: b.settings, who: committee, desc: texts.CmdSettings},
			"guest":         {handle: b.guest, who: committee, desc: texts.CmdGuest, example: texts.ExampleGuest},
			"rsvp":          {handle: b.rsvpCommand, where: privateOnly, who: member, desc: texts.CmdRSVP},
			"checkin":       {handle: b.checkin, who: member, desc: texts.CmdCheckin, example: texts.ExampleCheckin},
			"attendance":    {handle: b.attendance, where: privateOnly, who: committee, desc: texts.CmdAttendance},
			"close":         {handle: b.closeMeeting, who: committee, desc: texts.CmdClose},
			"report":        {handle: b.report, where: privateOnly, who: committee, desc: texts.CmdReport, example: texts.ExampleReport},
			"history":       {handle: b.history, where: privateOnly, who: member, desc: texts.CmdHistory},
			"export":        {handle: b.export, where: privateOnly, who: committee, desc: texts.CmdExport, example: texts.ExampleExport},
			"calendar":      {handle: b.calendar, where: privateOnly, who: member, desc: texts.CmdCalendar},
			"leave":         {handle: b.leave, where: privateOnly, who: committee, desc: texts.CmdLeave, example: texts.ExampleLeave},
			"unlink":        {handle: b.unlink, where: privateOnly, who: committee, desc: texts.CmdUnlink, example: texts.ExampleUnlink},
			"newlink":       {handle: b.newLink, who: committee, desc: texts.CmdNewLink},
			"notices":       {handle: b.notices, where: privateOnly, who: member, desc: texts.CmdNotices, example: texts.ExampleNotices},
			"cell":          {handle: b.cellCmd, where: privateOnly, desc: texts.CmdCell, example: texts.ExampleCell},
			"parent":        {handle: b.parent, who: committee, desc: texts.CmdParent, example: texts.ExampleParent},
			"topic":         {handle: b.topic, who: committee, desc: texts.CmdTopic, example: texts.ExampleTopic},
			"chair":         {handle: b.chair, who: committee, desc: texts.CmdChair, example: texts.ExampleChair},
			"minutetaker":   {handle: b.chair, who: committee, desc: texts.CmdMinuteTaker, example: texts.ExampleMinuteTaker},
			"vote":          {handle: b.vote, who: committee, desc: texts.CmdVote, example: texts.ExampleVote},
			"minutes":       {handle: b.minutesCommand, where: privateOnly, who: committee, desc: texts.CmdMinutes, example: texts.ExampleMinutes},
		},
		callbacks: map[string]callback{
			verbJoinPick:     {handle: b.joinPick},
			verbJoinNew:      {handle: b.joinPick},
			verbJoinWithdraw: {handle: b.joinWithdraw},
			verbJoinConfirm:  {handle: b.joinDecide, who: committee},
			verbJoinReject:   {handle: b.joinDecide, who: committee},
			verbJoinStanding: {handle: b.joinDecide, who: committee},
			verbJoinPart:     {handle: b.joinDecide, who: committee},
			verbPage:         {handle: b.membersPage, who: committee},
			verbCard:         {handle: b.memberCard, who: committee},
			verbSetPart:      {handle: b.cardSetPart, who: committee},
			verbStanding:     {handle: b.cardAskStanding, who: committee},
			verbSetStanding:  {handle: b.cardSetStanding, who: committee},
			verbRole:         {handle: b.cardRole, who: secretary},
			verbPick:         {handle: b.pickMember, who: committee},
			verbRSVP:         {handle: b.rsvp, who: member},
			verbReason:       {handle: b.rsvpReason, who: member},
			verbRollCall:     {handle: b.rollToggle, who: committee},
			verbRollPage:     {handle: b.rollPageTurn, who: committee},
			verbAnswerFor:    {handle: b.answerFor, who: committee},
			verbCardPresent:  {handle: b.presentFor, who: committee},
			verbSelfLink:     {handle: b.selfLink, who: committee},
			verbSelfNone:     {handle: b.selfNone, who: committee},
			verbSelfPage:     {handle: b.selfPage, who: committee},
			verbNoop:         {handle: b.noop, who: committee},
			verbLeaveAsk:     {handle: b.cardLeaveAsk, who: committee},
			verbLeaveCause:   {handle: b.cardLeaveCause, who: committee},
			verbLeaveYes:     {handle: b.cardLeaveYes, who: committee},
			verbReturn:       {handle: b.cardReturn, who: committee},

			verbCorrect:       {handle: b.correctList, who: committee},
			verbCorrectMember: {handle: b.correctMember, who: committee},
			verbCorrectSet:    {handle: b.correctSet, who: committee},
			verbCorrectCard:   {handle: b.correctCard, who: committee},
			verbCellPick:      {handle: b.cellPress, who: member},
		},
		dialogues: map[string]handlerFunc{
			dialogueJoinName:  b.joinName,
			dialogueAwayUntil: b.awayUntil,
			dialogueReason:    b.reasonText,
		},
	}
}

func (rt routes) dispatch(r *request) error {
	if r.cb != nil {
		return rt.callback(r)
	}
	if r.update.MyChatMember != nil {
		return r.b.membership(r)
	}
	if r.msg.MigrateToChatID != 0 {
		return r.b.migrate(r)
	}
	if n := utf8.RuneCountInString(r.msg.Text); n > maxInput {
		limit := maxInput
		if c, ok := rt.commands[r.cmd]; ok && c.long {
			limit = maxLongInput
		}
		if n > limit {
			return texts.Errorf(texts.CommonTooLong, n, limit)
		}
	}
	if r.cmd == "" {
		return rt.text(r)
	}
	c, ok := rt.commands[r.cmd]
	if !ok {
		switch {
		case r.chat.IsPrivate():
			return texts.Errorf(texts.CommonUnknownCommand)
		}
		return nil // other bots' commands in a group are none of ours
	}
	switch {
	case c.where == privateOnly && !r.chat.IsPrivate():
		return texts.Errorf(texts.CommonPrivateOnly, r.b.p.BotUsername)
	case c.where == groupOnly && !r.chat.IsGroup():
		return texts.Errorf(texts.CommonGroupOnly)
	}
	if c.who == committee || c.who == secretary {
		r.b.tagCell(r)
	}
	if c.who != anyone {
		if r.cell == nil {
			if r.chat.IsGroup() {
				return texts.Errorf(texts.CommonNoCellGroup)
			}
			return texts.Errorf(texts.CommonNoCellPrivate)
		}
		switch {
		case c.who == member && r.member == nil && !r.chat.IsGroup():
			return texts.Errorf(texts.CommonNoCellPrivate)
		case c.who == committee && !r.isCommittee():
			return texts.Errorf(texts.CommonNotCommittee)
		case c.who == secretary && r.role() != "secretary":
			return texts.Errorf(texts.CommonNotSecretary)
		}
	}
	return c.handle(r)
}

// text handles a message that is no command: the next step of a dialogue in a
// private chat, or nothing.
func (rt routes) text(r *request) error {
	if !r.chat.IsPrivate() {
		return nil
	}
	d, err := r.b.p.Store.DialogueOf(r.ctx, r.from.ID)
	if errors.Is(err, storage.ErrNotFound) {
		if r.member != nil && isCode(r.msg.Text) {
			return r.b.checkinCode(r, strings.TrimSpace(r.msg.Text))
		}
		if r.msg.Document != nil {
			return texts.Errorf(texts.CommonDocumentHint)
		}
		// Text that is no command reached nobody: say so, and who to ask.
		return texts.Errorf(texts.CommonFreeText)
	}
	if err != nil {
		return err
	}
	h, ok := rt.dialogues[d.Kind]
	if !ok {
		// A dialogue that waits for a button, not for text.
		return texts.Errorf(texts.CommonUseButtons)
	}
	return h(r)
}

func (rt routes) callback(r *request) error {
	data, err := decodeButton(r.cb.Data)
	if err != nil {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	c, ok := rt.callbacks[data.verb]
	if !ok {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	r.button = data
	if c.who != anyone {
		allowed, err := r.b.buttonActor(r, data.arg(0), c.who)
		if err != nil || !allowed {
			return err
		}
	}
	return c.handle(r)
}

// buttonCell is the cell a button names when its route checks the presser's
// place in it (0 otherwise), for the update's start to read that cell.
func (rt routes) buttonCell(data string) int64 {
	d, err := decodeButton(data)
	if err != nil {
		return 0
	}
	if c, ok := rt.callbacks[d.verb]; ok && c.who != anyone {
		return d.arg(0)
	}
	return 0
}

// buttonActor loads the button's cell and the presser's record in it, and checks
// the presser may use the button; a refusal is answered.
func (b *Bot) buttonActor(r *request, cellID int64, who access) (bool, error) {
	if r.cell == nil || r.cell.ID != cellID {
		c, err := b.p.Store.Cell(r.ctx, cellID)
		if errors.Is(err, storage.ErrNotFound) {
			r.answerCallback(r.t(texts.CommonButtonExpired), true)
			return false, nil
		}
		if err != nil {
			return false, err
		}
		r.cell, r.member = &c, nil
		m, err := b.p.Store.MemberByUser(r.ctx, c.ID, r.from.ID)
		switch {
		case err == nil:
			r.member = &m
		case !errors.Is(err, storage.ErrNotFound):
			return false, err
		}
	}
	switch {
	case who == member && r.member == nil:
		r.answerCallback(r.t(texts.CommonNoCellPrivate), true)
		return false, nil
	case who == committee && !r.isCommittee():
		r.answerCallback(r.t(texts.CommonNotCommittee), true)
		return false, nil
	case who == secretary && r.role() != cell.RoleSecretary:
		r.answerCallback(r.t(texts.CommonNotSecretary), true)
		return false, nil
	}
	return true, nil
}
