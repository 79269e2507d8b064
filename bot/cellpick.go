package bot

import (
	"errors"
	"strings"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Several cells per person: a user's private commands act on one of their
// cells, the one they picked with /cell (the last joined until then).

// verbCellPick is a press on one of the user's cells in /cell's list.
const verbCellPick = "cl" // cell

// userCells loads the cells the user belongs to, in the order they were made.
func (b *Bot) userCells(r *request) ([]cell.Cell, error) {
	ids, err := b.p.Store.UserCells(r.ctx, r.from.ID)
	if err != nil {
		return nil, err
	}
	out := make([]cell.Cell, 0, len(ids))
	for _, id := range ids {
		c, err := b.p.Store.Cell(r.ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// cellCmd is /cell [name]: the user's cells as buttons, or the one named
// picked for their private commands.
func (b *Bot) cellCmd(r *request) error {
	cells, err := b.userCells(r)
	if err != nil {
		return err
	}
	if len(cells) == 0 {
		return texts.Errorf(texts.CommonNoCellPrivate)
	}
	if name := strings.TrimSpace(r.args); name != "" {
		// The exact name, else the one cell whose name holds what was typed,
		// accents and case ignored.
		var found []cell.Cell
		key, folded := cell.Key(name), cell.Fold(name)
		for _, c := range cells {
			if cell.Key(c.Name) == key {
				found = []cell.Cell{c}
				break
			}
			if strings.Contains(cell.Fold(c.Name), folded) {
				found = append(found, c)
			}
		}
		if len(found) == 1 {
			return b.pickCell(r, found[0])
		}
		r.replyKB(r.t(texts.CellUnknown, echo(name)), b.cellKeyboard(r, cells))
		return nil
	}
	if len(cells) == 1 {
		r.reply(r.t(texts.CellOnlyOne, texts.Escape(cells[0].Name)))
		return nil
	}
	current := ""
	if r.cell != nil {
		current = texts.Escape(r.cell.Name)
	}
	r.replyKB(r.t(texts.CellList, current), b.cellKeyboard(r, cells))
	return nil
}

func (b *Bot) cellKeyboard(r *request, cells []cell.Cell) *telegram.InlineKeyboardMarkup {
	var rows [][]telegram.InlineKeyboardButton
	for _, c := range cells {
		label := c.Name
		if r.cell != nil && r.cell.ID == c.ID {
			label = "• " + label
		}
		rows = append(rows, row(cb(label, verbCellPick, c.ID)))
	}
	return keyboard(rows...)
}

// cellPress is a press on a cell in /cell's list: the presser's place in it
// was checked by the route.
func (b *Bot) cellPress(r *request) error {
	r.answerCallback("", false)
	return b.pickCell(r, *r.cell)
}

// pickCell makes c the cell of the user's private commands and gives them
// that cell's menus.
func (b *Bot) pickCell(r *request, c cell.Cell) error {
	err := b.p.Store.PickUserCell(r.ctx, r.from.ID, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return texts.Errorf(texts.CommonNoCellPrivate)
	}
	if err != nil {
		return err
	}
	m, err := b.p.Store.MemberByUser(r.ctx, c.ID, r.from.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	r.log.Info("cell picked", "cell", c.ID)
	if err == nil {
		r.syncMenus(c, m)
	}
	r.cellTag = ""
	r.result(r.t(texts.CellPicked, texts.Escape(c.Name)))
	return nil
}

// tagCell names the cell in the replies to a committee command of a user who
// belongs to several cells, so that a secretary of two cells sees which one
// the command acted on.
func (b *Bot) tagCell(r *request) {
	if r.cell == nil || !r.chat.IsPrivate() {
		return
	}
	ids, err := b.p.Store.UserCells(r.ctx, r.from.ID)
	if err != nil {
		r.log.Warn("cells of the user", "err", err)
		return
	}
	if len(ids) > 1 {
		r.cellTag = "[" + texts.Escape(r.cell.Name) + "] "
	}
}
