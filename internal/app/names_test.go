package app_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// buttonLabels lists a message's button texts.
func buttonLabels(m telegramtest.Message) []string {
	var out []string
	for _, r := range m.Buttons {
		for _, b := range r {
			out = append(out, b.Text)
		}
	}
	return out
}

func hasLabel(m telegramtest.Message, prefix string) bool {
	for _, l := range buttonLabels(m) {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestNamesakesImportAndAreFoundApart: the 74-member
// roster with "Nguyễn Văn An"/"Nguyễn Văn Ân" and "Lê Văn Tư"/"Lê Văn Từ"
// imports; an accentless query offers both namesakes as buttons, the exact name
// finds one, a name typed in decomposed form finds the precomposed one, and an
// unknown name is not found instead of offering everyone of its family.
func TestNamesakesImportAndAreFoundApart(t *testing.T) {
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, readFile(t, "roster74_namesakes.csv"), 74)
	sec, c := cs.secretary, cs.cell
	if r := rosterByName(t, e, c.ID); len(r) != 74 || r["Nguyễn Văn An"].ID == r["Nguyễn Văn Ân"].ID || r["Lê Văn Tư"].ID == 0 || r["Lê Văn Từ"].ID == 0 {
		t.Fatalf("roster after import: %d records, namesakes %+v %+v", len(r), r["Nguyễn Văn An"], r["Nguyễn Văn Ân"])
	}

	// Accentless: both, with buttons.
	sec.Send("/exempt nguyen van an cao tuổi")
	pick := sec.WaitMessage("Có 2 đồng chí khớp với «nguyen van an»")
	if !hasLabel(pick, "Nguyễn Văn An (") || !hasLabel(pick, "Nguyễn Văn Ân (") {
		t.Fatalf("namesake buttons = %q", buttonLabels(pick))
	}
	for _, l := range buttonLabels(pick) {
		if strings.HasPrefix(l, "Nguyễn Văn Ân") {
			sec.Press(l)
		}
	}
	sec.WaitMessage("Nguyễn Văn Ân: miễn sinh hoạt (cao tuổi)")

	// The exact name: one member, no question.
	sec.Send("/exempt Lê Văn Từ ốm dài ngày")
	sec.WaitMessage("Lê Văn Từ: miễn sinh hoạt (ốm dài ngày)")
	// Typed decomposed ("Unicode tổ hợp"): the same member.
	sec.Send("/regular Le\u0302 Va\u0306n Tu\u031b\u0300")
	sec.WaitMessage("Lê Văn Từ: sinh hoạt thường xuyên")
	sec.Send("/away Nguye\u0302\u0303n Va\u0306n A\u0302n 31/12/2026 đi làm xa")
	sec.WaitMessage("Nguyễn Văn Ân: tạm miễn sinh hoạt")

	r := rosterByName(t, e, c.ID)
	if r["Nguyễn Văn An"].Participation != cell.Regular || r["Lê Văn Tư"].Participation != cell.Regular {
		t.Errorf("a namesake was changed too: %+v %+v", r["Nguyễn Văn An"], r["Lê Văn Tư"])
	}
	if r["Nguyễn Văn Ân"].Participation != cell.Away || r["Lê Văn Từ"].Participation != cell.Regular {
		t.Errorf("changes: %+v %+v", r["Nguyễn Văn Ân"], r["Lê Văn Từ"])
	}

	// Unknown: "not found", not every Trương.
	sec.Send("/exempt Trương Vô Danh")
	nf := sec.WaitMessage("Không tìm thấy")
	if len(nf.Buttons) != 0 || !strings.Contains(nf.Text, "Trương Vô Danh") {
		t.Errorf("unknown name answered %q with %q", nf.Text, buttonLabels(nf))
	}
	// A long unknown name is echoed cut to 100 characters.
	long := strings.Repeat("Trương Vô Danh ", 30)
	sec.Send("/promote " + long)
	nf = sec.WaitMessage("Không tìm thấy đồng chí nào tên «Trương Vô Danh Trương")
	quoted := nf.Text[strings.Index(nf.Text, "«")+len("«") : strings.Index(nf.Text, "»")]
	if n := utf8.RuneCountInString(quoted); n > cell.MaxEcho {
		t.Errorf("echoed %d characters of the user's text, want at most %d", n, cell.MaxEcho)
	}
	// Re-importing the same file changes nobody's identity.
	sec.SendDocument("roster.csv", readFile(t, "roster74_namesakes.csv"), "/import")
	done := sec.WaitMessage("0 mới, 74 cập nhật")
	if !strings.Contains(done.Text, "Chi bộ có 74 đồng chí") {
		t.Errorf("re-import report = %q", done.Text)
	}
}

// TestSecretaryIsOnePerson: the record /setup made from the
// secretary's Telegram name is linked to their roster entry at /import, by
// their first and last names in either order, or picked among close names; an
// operator not on the roster says so and is never counted.
func TestSecretaryIsOnePerson(t *testing.T) {
	e := newEnv(t)
	e.start()
	roster := readFile(t, "roster74_namesakes.csv")

	t.Run("other order", func(t *testing.T) {
		sec := e.srv.UserNamed("Lan", "Nguyễn Thị") // shown as "Lan Nguyễn Thị"
		c := setupAndImport(t, e, sec, "Chi bộ 1", roster)
		done := sec.WaitMessage("Đã nhập 74 đồng chí")
		if !strings.Contains(done.Text, "73 mới, 1 cập nhật") || !strings.Contains(done.Text, "Chi bộ có 74 đồng chí (51 sinh hoạt") {
			t.Errorf("import report = %q", done.Text)
		}
		sec.WaitMessage("Đã liên kết tài khoản của đồng chí với Nguyễn Thị Lan")
		r := rosterByName(t, e, c.ID)
		if len(r) != 74 || r["Nguyễn Thị Lan"].UserID != sec.ID() || r["Nguyễn Thị Lan"].Role != cell.RoleSecretary {
			t.Errorf("%d records; secretary %+v", len(r), r["Nguyễn Thị Lan"])
		}
	})

	t.Run("picked among close names", func(t *testing.T) {
		sec := e.srv.UserNamed("Chị", "Lan")
		c := setupAndImport(t, e, sec, "Chi bộ 2", roster)
		done := sec.WaitMessage("Đã nhập 74 đồng chí")
		if !strings.Contains(done.Text, "74 mới, 0 cập nhật") || !strings.Contains(done.Text, "Chi bộ có 74 đồng chí (51 sinh hoạt") {
			t.Errorf("import report = %q (the unlisted secretary must not count)", done.Text)
		}
		ask := sec.WaitMessage("có tên trong danh sách vừa nhập không")
		for _, want := range []string{"Tôi là Nguyễn Thị Lan", "Tôi là Vũ Minh Lan", "Tìm trong cả danh sách", "Tôi không có trong danh sách này"} {
			if !hasLabel(ask, want) {
				t.Errorf("no button %q in %q", want, buttonLabels(ask))
			}
		}
		sec.Press("Tôi là Nguyễn Thị Lan")
		sec.WaitMessage("Đã liên kết tài khoản của đồng chí với Nguyễn Thị Lan")
		r := rosterByName(t, e, c.ID)
		if len(r) != 74 || r["Nguyễn Thị Lan"].UserID != sec.ID() || r["Nguyễn Thị Lan"].Role != cell.RoleSecretary {
			t.Errorf("%d records; secretary %+v", len(r), r["Nguyễn Thị Lan"])
		}
		sec.Send("/members")
		sec.WaitMessage("74 đồng chí (51 sinh hoạt thường xuyên")
	})

	t.Run("picked from the whole roster", func(t *testing.T) {
		// A Telegram name that shares no word with the roster's.
		sec := e.srv.UserNamed("Bí thư", "KP4")
		c := setupAndImport(t, e, sec, "Chi bộ 4", roster)
		ask := sec.WaitMessage("có tên trong danh sách vừa nhập không")
		if !hasLabel(ask, "Trang 1/10") || !hasLabel(ask, "▶️") || !hasLabel(ask, "Tôi không có trong danh sách này") {
			t.Fatalf("first page's buttons: %q", buttonLabels(ask))
		}
		sec.Press("▶️")
		var pick string
		e.srv.WaitUntil(func() bool {
			m := sec.LastMessage()
			if !hasLabel(m, "Trang 2/10") {
				return false
			}
			for _, l := range buttonLabels(m) {
				if strings.HasPrefix(l, "Tôi là ") && !hasLabel(ask, l) {
					pick = strings.TrimPrefix(l, "Tôi là ")
					return true
				}
			}
			return false
		})
		sec.Press("Tôi là " + pick)
		sec.WaitMessage("Đã liên kết tài khoản của đồng chí với " + pick)
		if r := rosterByName(t, e, c.ID); len(r) != 74 || r[pick].UserID != sec.ID() || r[pick].Role != cell.RoleSecretary {
			t.Errorf("%d records; secretary %+v", len(r), r[pick])
		}
	})

	t.Run("operator not on the roster", func(t *testing.T) {
		op := e.srv.UserNamed("Minh", "Vận Hành")
		c := setupAndImport(t, e, op, "Chi bộ 3", roster)
		op.WaitMessage("có tên trong danh sách vừa nhập không")
		op.Press("Tôi không có trong danh sách này")
		op.WaitMessage("không được tính vào số đảng viên")
		op.Send("/members")
		op.WaitMessage("74 đồng chí (51 sinh hoạt thường xuyên, 15 miễn sinh hoạt, 8 tạm miễn")
		// Importing again does not ask again, and makes no second record.
		op.SendDocument("roster.csv", roster, "/import")
		op.WaitMessage("0 mới, 74 cập nhật")
		e.srv.WaitIdle()
		// The question was answered in place (an edit); none was asked again.
		if n := countContaining(op.Messages(), "có tên trong danh sách vừa nhập không"); n != 0 {
			t.Errorf("asked again %d times", n)
		}
		if r := rosterByName(t, e, c.ID); len(r) != 75 || !r["Minh Vận Hành"].Unlisted || r["Minh Vận Hành"].Role != cell.RoleSecretary {
			t.Errorf("%d records; operator %+v", len(r), r["Minh Vận Hành"])
		}
	})
}

// TestInvisibleCharacters: zero-width and bidi controls are
// taken out of names and cell names; a name or a broadcast with nothing
// readable left is refused with a clear answer.
func TestInvisibleCharacters(t *testing.T) {
	e := newEnv(t)
	e.start()
	sec := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ")
	g.AddAdmin(sec)
	sec.Start("")
	sec.SendIn(g, "/setup \u200b\u200d\u2066\u2069")
	e.srv.WaitMessage(g.ID(), "không có chữ nào đọc được")
	sec.SendIn(g, "/setup Chi\u200b bộ\u202e Khu phố 3\u202c")
	e.srv.WaitMessage(g.ID(), "Đã thiết lập Chi bộ Khu phố 3")
	c := cellOf(t, e, g)
	if c.Name != "Chi bộ Khu phố 3" {
		t.Errorf("cell name = %q", c.Name)
	}
	sec.SendDocument("roster.csv", []byte(smallRoster), "/import")
	sec.WaitMessage("Đã nhập 4 đồng chí")

	payload := joinPayload(t, e.srv.WaitMessage(g.ID(), "Mời các đồng chí bấm nút"))
	u := e.srv.User("Hoa")
	u.Start(payload)
	u.WaitMessage("họ và tên")
	u.Send("\u200b\u200c\u200d")
	u.WaitMessage("không có chữ nào đọc được")
	u.Send("Lê\u200b Thị Hoa\u200f")
	u.WaitMessage("Xin chọn đúng tên")
	u.Press("Tôi là Lê Thị Hoa")
	u.WaitMessage("chờ chi ủy xác nhận")

	sec.Send("/broadcast \u200b \u200d\u2066")
	sec.WaitMessage("Thông báo không có chữ nào đọc được")
}

func cellOf(t *testing.T, e *env, g *telegramtest.Group) cell.Cell {
	t.Helper()
	c, err := e.store.CellByChat(t.Context(), g.ID())
	if err != nil {
		t.Fatalf("group is not a cell: %v", err)
	}
	return c
}

// setupAndImport makes a new group the cell name through sec's /setup, then
// sends the roster with /import in sec's private chat.
func setupAndImport(t *testing.T, e *env, sec *telegramtest.User, name string, roster []byte) cell.Cell {
	t.Helper()
	g := e.srv.Group(name)
	g.AddAdmin(sec)
	sec.Start("")
	sec.SendIn(g, "/setup "+name)
	e.srv.WaitMessage(g.ID(), "Đã thiết lập "+name)
	c := cellOf(t, e, g)
	sec.SendDocument("roster.csv", roster, "/import")
	return c
}
