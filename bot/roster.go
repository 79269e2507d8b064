package bot

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

const (
	membersPerPage = 20
	maxRosterBytes = 1 << 20
)

// Participation codes in buttons, and the buttons' labels.
var (
	partCodes      = []cell.Participation{cell.Regular, cell.Exempt, cell.Away, cell.Attached}
	partButtonKeys = []texts.Key{texts.CardSetRegular, texts.CardSetExempt, texts.CardSetAway, texts.CardSetAttached}
)

func partKey(p cell.Participation) texts.Key {
	switch p {
	case cell.Exempt:
		return texts.PartExempt
	case cell.Away:
		return texts.PartAway
	case cell.Attached:
		return texts.PartAttached
	}
	return texts.PartRegular
}

func standingKey(s cell.Standing) texts.Key {
	if s == cell.Probationary {
		return texts.StandingProbationary
	}
	return texts.StandingOfficial
}

func roleKey(r cell.Role) texts.Key {
	switch r {
	case cell.RoleCommittee:
		return texts.RoleCommittee
	case cell.RoleDeputy:
		return texts.RoleDeputy
	case cell.RoleSecretary:
		return texts.RoleSecretary
	}
	return texts.RoleMember
}

// sortedRoster is the roster in name order, as a Vietnamese reader expects it:
// by given name (the last word), then the whole name.
func sortedRoster(ms []cell.Member) []cell.Member {
	type keyed struct {
		m            cell.Member
		given, whole string
	}
	ks := make([]keyed, len(ms))
	for i, m := range ms {
		f := cell.Fold(m.Name)
		ks[i] = keyed{m: m, given: f[strings.LastIndex(f, " ")+1:], whole: f}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if c := strings.Compare(a.given, b.given); c != 0 {
			return c
		}
		return strings.Compare(a.whole, b.whole)
	})
	out := make([]cell.Member, len(ks))
	for i, k := range ks {
		out[i] = k.m
	}
	return out
}

// members shows the first page of the roster.
func (b *Bot) members(r *request) error {
	// Pending join requests first: they wait on the committee.
	if err := b.showPendingJoins(r); err != nil {
		return err
	}
	text, kb, err := b.rosterPage(r, 0)
	if err != nil {
		return err
	}
	r.replyKB(text, kb)
	return nil
}

func (b *Bot) membersPage(r *request) error {
	text, kb, err := b.rosterPage(r, int(r.button.arg(1)))
	if err != nil {
		return err
	}
	r.answerCallback("", false)
	r.edit(text, kb)
	return nil
}

func (b *Bot) rosterPage(r *request, page int) (string, *telegram.InlineKeyboardMarkup, error) {
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return "", nil, err
	}
	departed := cell.Departed(roster, r.today())
	roster = cell.Current(roster, r.today())
	if len(roster) == 0 {
		return r.t(texts.MembersEmpty), keyboard(departedRows(r, departed)...), nil
	}
	roster = sortedRoster(roster)
	pages := (len(roster) + membersPerPage - 1) / membersPerPage
	page = max(0, min(page, pages-1))
	unreachable, err := b.p.Store.Unreachable(r.ctx, r.cell.ID)
	if err != nil {
		return "", nil, err
	}
	// Each name is shown once, on its button (one screen on a cheap phone);
	// the text holds the counts and what the icons mean.
	text := r.t(texts.MembersHeader, texts.Escape(r.cell.Name), texts.Count(r.lang, len(roster), texts.CountMember),
		b.rosterCounts(r.lang, roster), page+1, pages) + "\n" + r.t(texts.MembersLegend)
	var rows [][]telegram.InlineKeyboardButton
	now := b.p.Now()
	for _, m := range roster[page*membersPerPage : min(len(roster), (page+1)*membersPerPage)] {
		mark := "📱"
		switch {
		case m.UserID == 0:
			mark = "📵"
		case unreachable[m.ID]:
			mark = "⚠️"
		}
		label := mark + " " + m.Name
		if m.Standing == cell.Probationary {
			label += " · " + r.t(texts.StandingProbationary)
		}
		if p := m.ParticipationOn(now); p != cell.Regular {
			label += " · " + strings.ToLower(r.t(partButtonKeys[slices.Index(partCodes, p)]))
		}
		if m.Role.IsCommittee() {
			label += " · " + r.t(roleKey(m.Role))
		}
		rows = append(rows, row(cb(label, verbCard, r.cell.ID, m.ID)))
	}
	if page == pages-1 {
		rows = append(rows, departedRows(r, departed)...)
	}
	var nav []telegram.InlineKeyboardButton
	if page > 0 {
		nav = append(nav, cb(r.t(texts.MembersPrev), verbPage, r.cell.ID, int64(page-1)))
	}
	if page < pages-1 {
		nav = append(nav, cb(r.t(texts.MembersNext), verbPage, r.cell.ID, int64(page+1)))
	}
	if len(nav) > 0 {
		rows = append(rows, nav)
	}
	return text, keyboard(rows...), nil
}

// rosterCounts is "51 sinh hoạt thường xuyên, 15 miễn sinh hoạt, 8 tạm miễn, 0
// sinh hoạt tạm thời": each participation counted apart, as of today.
func (b *Bot) rosterCounts(lang string, roster []cell.Member) string {
	var n [4]int
	now := b.p.Now()
	for _, m := range roster {
		if i := slices.Index(partCodes, m.ParticipationOn(now)); i >= 0 {
			n[i]++
		}
	}
	return texts.T(lang, texts.MembersCounts, n[0], n[1], n[2], n[3])
}

// buttonMember is the member a card's button names (its second argument); a
// member no longer on the roster is answered as an expired button (ok false).
func (b *Bot) buttonMember(r *request) (m cell.Member, ok bool, err error) {
	m, err = b.p.Store.Member(r.ctx, r.cell.ID, r.button.arg(1))
	if errors.Is(err, storage.ErrNotFound) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return m, false, nil
	}
	return m, err == nil, err
}

// memberCard shows one member with buttons to change them.
func (b *Bot) memberCard(r *request) error {
	m, ok, err := b.buttonMember(r)
	if err != nil || !ok {
		return err
	}
	r.answerCallback("", false)
	return b.showCard(r, m, true)
}

func (b *Bot) showCard(r *request, m cell.Member, edit bool) error {
	unreachable, err := b.p.Store.IsUnreachable(r.ctx, r.cell.ID, m.ID)
	if err != nil {
		return err
	}
	lines := []string{
		"<b>" + texts.Escape(m.Name) + "</b>",
		r.t(texts.CardStanding, r.t(standingKey(m.Standing))) + " · " + b.partText(r.lang, m),
	}
	if m.Reason != "" {
		lines = append(lines, r.t(texts.CardReason, texts.Escape(m.Reason)))
	}
	if m.Left != "" {
		// A member who left: their record, and the way back.
		lines = append(lines, r.t(texts.CardLeft, cell.FormatDate(m.Left), r.t(causeKey(m.LeftCause))))
		kb := keyboard(row(cb(r.t(texts.CardReturn), verbReturn, r.cell.ID, m.ID)), row(cb(r.t(texts.CardBack), verbPage, r.cell.ID, 0)))
		if edit {
			r.edit(strings.Join(lines, "\n"), kb)
		} else {
			r.replyKB(strings.Join(lines, "\n"), kb)
		}
		return nil
	}
	lines = append(lines, r.t(texts.CardRole, r.t(roleKey(m.Role))))
	switch {
	case m.UserID == 0:
		lines = append(lines, r.t(texts.CardNotLinked))
	case unreachable:
		lines = append(lines, r.t(texts.CardUnreachable))
	default:
		lines = append(lines, r.t(texts.CardLinked))
	}
	var parts []telegram.InlineKeyboardButton
	for i, p := range partCodes {
		label := r.t(partButtonKeys[i])
		if p == m.Participation {
			label = "• " + label
		}
		parts = append(parts, cb(label, verbSetPart, r.cell.ID, m.ID, int64(i)))
	}
	rows := [][]telegram.InlineKeyboardButton{parts[:2], parts[2:], row(cb(r.t(texts.CardToggleStand), verbStanding, r.cell.ID, m.ID))}
	if m.UserID == 0 {
		// A member without Telegram: the committee answers and checks in for
		// them.
		line, answerRows, err := b.answerForRows(r, m)
		if err != nil {
			return err
		}
		if line != "" {
			lines = append(lines, line)
			rows = append(rows, answerRows...)
		}
		line, presenceRow, err := b.presenceForRow(r, m)
		if err != nil {
			return err
		}
		if line != "" {
			lines = append(lines, line)
			rows = append(rows, presenceRow)
		}
	}
	if r.role() == cell.RoleSecretary && m.Role != cell.RoleSecretary {
		if m.Role.IsCommittee() {
			rows = append(rows, row(cb(r.t(texts.CardDemote), verbRole, r.cell.ID, m.ID, 0)))
		} else {
			rows = append(rows, row(cb(r.t(texts.CardPromote), verbRole, r.cell.ID, m.ID, 1)))
		}
	}
	rows = append(rows, correctCardRow(r, m))
	rows = append(rows, row(cb(r.t(texts.CardLeave), verbLeaveAsk, r.cell.ID, m.ID)))
	rows = append(rows, row(cb(r.t(texts.CardBack), verbPage, r.cell.ID, 0)))
	if edit {
		r.edit(strings.Join(lines, "\n"), keyboard(rows...))
	} else {
		r.replyKB(strings.Join(lines, "\n"), keyboard(rows...))
	}
	return nil
}

// partText is "miễn sinh hoạt" or "tạm miễn sinh hoạt đến 31/12/2026".
func (b *Bot) partText(lang string, m cell.Member) string {
	s := texts.T(lang, partKey(m.Participation))
	if m.Until != "" && (m.Participation == cell.Away || m.Participation == cell.Attached) {
		s += " " + texts.T(lang, texts.CardUntil, cell.FormatDate(m.Until))
	}
	return s
}

func (b *Bot) cardSetParticipation(r *request) error {
	i := int(r.button.arg(2))
	if i < 0 || i >= len(partCodes) {
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	}
	return b.cardUpdate(r, func(m *cell.Member) error {
		if m.Participation != partCodes[i] {
			m.Participation, m.Until, m.Reason = partCodes[i], "", ""
		}
		return nil
	})
}

func (b *Bot) cardRole(r *request) error {
	promote := r.button.arg(2) == 1
	return b.cardUpdate(r, func(m *cell.Member) error { return setRole(m, promote) })
}

var errIsSecretary = texts.Errorf(texts.DemoteSecretary)

func setRole(m *cell.Member, promote bool) error {
	if m.Role == cell.RoleSecretary {
		return errIsSecretary
	}
	if promote {
		if !m.Role.IsCommittee() {
			m.Role = cell.RoleCommittee
		}
	} else {
		m.Role = cell.RoleMember
	}
	return nil
}

func (b *Bot) cardUpdate(r *request, fn func(*cell.Member) error) error {
	var before cell.Member
	m, err := b.p.Store.UpdateMember(r.ctx, r.cell.ID, r.button.arg(1), func(m *cell.Member) error {
		before = *m
		return fn(m)
	})
	var uerr *texts.Err
	switch {
	case errors.As(err, &uerr):
		r.answerCallback(r.t(uerr.Key, uerr.Args...), true)
		return nil
	case errors.Is(err, storage.ErrNotFound):
		r.answerCallback(r.t(texts.CommonButtonExpired), true)
		return nil
	case err != nil:
		return err
	}
	if reflect.DeepEqual(before, m) {
		// The choice already shown (a second tap): the card stays as it is.
		r.answerCallback(r.t(texts.CardUpdated), false)
		return nil
	}
	r.log.Info("member changed", "cell", r.cell.ID, "member", m.ID)
	if r.button.verb == verbRole {
		r.syncMenus(*r.cell, m)
	}
	r.answerCallback(r.t(texts.CardUpdated), false)
	return b.showCard(r, m, true)
}

// importRoster imports a roster sent with /import as its caption, or replied
// to with /import: an Excel workbook (its first sheet) or a CSV. A bad line is
// named and nothing is imported.
func (b *Bot) importRoster(r *request) error {
	doc := r.msg.Document
	if doc == nil && r.msg.ReplyToMessage != nil {
		doc = r.msg.ReplyToMessage.Document
	}
	if doc == nil {
		return texts.Errorf(texts.ImportUsage)
	}
	// Other office files are the usual mistake: say to save as a workbook or
	// CSV. Anything else is read, and a file that is no roster fails on its
	// header.
	ext := strings.ToLower(path.Ext(doc.FileName))
	switch ext {
	case ".xls", ".ods", ".numbers", ".doc", ".docx", ".pdf", ".odt", ".jpg", ".jpeg", ".png", ".zip":
		return texts.Errorf(texts.ImportNotCSV, echo(doc.FileName))
	}
	if doc.FileSize > maxRosterBytes {
		return texts.Errorf(texts.ImportTooBig)
	}
	data, err := b.p.Files.Download(r.ctx, doc.FileID, maxRosterBytes)
	if errors.Is(err, telegram.ErrFileTooBig) {
		return texts.Errorf(texts.ImportTooBig)
	}
	if err != nil {
		return fmt.Errorf("download roster: %w", err)
	}
	parse := cell.ParseRoster
	// A workbook is a zip, whatever its name says.
	if ext == ".xlsx" || ext == ".xlsm" || bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		parse = cell.ParseRosterXLSX
	}
	members, err := parse(data)
	var lerr *cell.LineError
	if errors.As(err, &lerr) && lerr.Problem == cell.ProblemWorkbook {
		r.log.Info("roster workbook unreadable", "cell", r.cell.ID, "err", lerr.Value)
		return texts.Errorf(texts.ImportBadWorkbook, echo(doc.FileName))
	}
	if errors.As(err, &lerr) {
		return lineError(lerr)
	}
	if err != nil {
		return err
	}
	res, err := b.p.Store.ImportMembers(r.ctx, r.cell.ID, members)
	if err != nil {
		return err
	}
	all, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	roster := cell.Listed(all)
	r.log.Info("roster imported", "cell", r.cell.ID, "added", res.Added, "updated", res.Updated, "linked", res.Linked)
	text := r.t(texts.ImportDone, texts.Count(r.lang, len(members), texts.CountMember), res.Added, res.Updated,
		texts.Count(r.lang, len(roster), texts.CountMember), b.rosterCounts(r.lang, roster))
	if res.Added > 0 && len(roster)-res.Added <= 1 {
		// The first import (the roster held at most the secretary, from
		// /setup): say what comes next.
		text += "\n\n" + r.t(texts.ImportNext)
	}
	r.reply(text)
	return b.askSelf(r, all)
}

func lineError(e *cell.LineError) error {
	v := echo(e.Value)
	var reason *texts.Err
	switch e.Problem {
	case cell.ProblemHeader:
		return texts.Errorf(texts.ImportBadHeader)
	case cell.ProblemEmpty:
		return texts.Errorf(texts.ImportEmpty)
	case cell.ProblemColumns:
		reason = &texts.Err{Key: texts.ImportErrColumns, Args: []any{e.Count, e.Other}}
	case cell.ProblemName:
		reason = &texts.Err{Key: texts.ImportErrName}
	case cell.ProblemUnmarked:
		reason = &texts.Err{Key: texts.ImportErrUnmarked, Args: []any{v}}
	case cell.ProblemStanding:
		reason = &texts.Err{Key: texts.ImportErrStanding, Args: []any{v}}
	case cell.ProblemParticipation:
		reason = &texts.Err{Key: texts.ImportErrPart, Args: []any{v}}
	case cell.ProblemDate:
		reason = &texts.Err{Key: texts.ImportErrDate, Args: []any{v}}
	case cell.ProblemDuplicate:
		reason = &texts.Err{Key: texts.ImportErrDuplicate, Args: []any{v, e.Other}}
	case cell.ProblemTooLong:
		reason = &texts.Err{Key: texts.ImportErrTooLong, Args: []any{v, e.Count}}
	case cell.ProblemEncoding:
		reason = &texts.Err{Key: texts.ImportErrEncoding}
	default:
		reason = &texts.Err{Key: texts.ImportErrQuote}
	}
	return &lineErr{line: e.Line, reason: reason}
}

// lineErr renders "Dòng 7: <reason>" in the user's language.
type lineErr struct {
	line   int
	reason *texts.Err
}

func (e *lineErr) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.reason) }
