package app_test

import (
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

const smallRoster = "name,standing,participation,until,reason\n" +
	"Nguyễn Thị Lan,official,regular,,\n" +
	"Nguyễn Văn An,official,regular,,\n" +
	"Trần Văn An,probationary,regular,,\n" +
	"Lê Thị Hoa,official,regular,,\n"

// TestBadInputIsAnsweredAndChangesNothing sends the mistakes real users make and
// checks each gets a clear answer, the roster stays as it was, and the Bot API
// never had to refuse a message the bot wrote (no 400 for bad HTML).
func TestBadInputIsAnsweredAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	secretary, g, payload, c := cs.secretary, cs.group, cs.payload, cs.cell
	before := rosterByName(t, e, c.ID)

	member := e.srv.User("Hoa")
	joinAs(t, member, secretary, payload, "Lê Thị Hoa")
	stranger := e.srv.User("Khách")
	stranger.Start("")
	other := e.srv.Group("Nhóm khác")
	other.Add(secretary)

	tests := []struct {
		name string
		send func() // what the user does
		who  *telegramtest.User
		chat int64 // where the answer comes; 0: the user's private chat
		want string
	}{
		{"csv with a bad line", func() { secretary.SendDocument("bad.csv", readFile(t, "roster_bad_line.csv"), "/import") }, secretary, 0, "Dòng 7 của tệp: «sometimes» không phải diện sinh hoạt; xin ghi «thường xuyên», «miễn», «tạm miễn» hoặc «tạm thời»"},
		{"not a csv", func() { secretary.SendDocument("roster.pdf", []byte("%PDF"), "/import") }, secretary, 0, "không phải tệp CSV"},
		{"import without a file", func() { secretary.Send("/import") }, secretary, 0, "Xin gửi danh sách đảng viên"},
		{"unknown member", func() { secretary.Send("/exempt Phạm Văn Không") }, secretary, 0, "Không tìm thấy đồng chí nào tên «Phạm Văn Không»"},
		{"wrong date", func() { secretary.Send("/away Lê Thị Hoa until 32/13/2026 đi xa") }, secretary, 0, "Ngày «32/13/2026» không đúng dạng ngày/tháng/năm"},
		{"reason too long", func() { secretary.Send("/exempt Lê Thị Hoa " + strings.Repeat("ốm ", 100)) }, secretary, 0, "Lý do dài quá (299 ký tự)"},
		{"empty command", func() { secretary.Send("/exempt") }, secretary, 0, "Xin ghi họ tên sau lệnh, ví dụ: /exempt"},
		{"setup without a name", func() { secretary.SendIn(other, "/setup") }, secretary, other.ID(), "Xin ghi tên chi bộ"},
		{"5000 characters", func() { secretary.Send("/exempt " + strings.Repeat("a", 5000)) }, secretary, 0, "Tin nhắn dài quá (5008 ký tự)"},
		{"private command in a group", func() { secretary.SendIn(g, "/members") }, secretary, g.ID(), "Lệnh này dùng trong tin nhắn riêng"},
		{"group command in private", func() { secretary.Send("/setup Chi bộ mới") }, secretary, 0, "Lệnh này dùng trong nhóm"},
		{"group that is no cell", func() { secretary.SendIn(other, "/join") }, secretary, other.ID(), "Nhóm này chưa gắn với chi bộ nào"},
		{"member tries the committee's command", func() { member.Send("/members") }, member, 0, "chỉ dành cho chi ủy"},
		{"member tries the secretary's command", func() { member.Send("/demote Nguyễn Thị Lan") }, member, 0, "chỉ dành cho bí thư"},
		{"stranger tries a committee command", func() { stranger.Send("/members") }, stranger, 0, "chưa liên kết với chi bộ nào"},
		{"unknown command", func() { member.Send("/frobnicate") }, member, 0, "Bot chưa hiểu lệnh này"},
		{"bad join link", func() { stranger.Start("nosuchcell") }, stranger, 0, "Đường dẫn đăng ký nhận tin không đúng"},
		{"demote the secretary", func() { secretary.Send("/demote Nguyễn Thị Lan") }, secretary, 0, "Không bỏ được quyền chi ủy trên Bot của bí thư"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.send()
			chat := tt.chat
			if chat == 0 {
				chat = tt.who.ID()
			}
			e.srv.WaitMessage(chat, tt.want)
		})
	}
	e.srv.WaitIdle()
	if after := rosterByName(t, e, c.ID); !sameRoster(before, after, "Lê Thị Hoa") {
		t.Errorf("bad input changed the roster:\nbefore %v\nafter  %v", before, after)
	}

	// An ambiguous name gets buttons; the pick applies the change.
	secretary.Send("/away Văn An until 31/12/2026 đi làm xa")
	secretary.WaitMessage("Có 2 đồng chí khớp với «Văn An»")
	secretary.Press("Nguyễn Văn An (sinh hoạt thường xuyên)")
	secretary.WaitMessage("Nguyễn Văn An: tạm miễn sinh hoạt đến 31/12/2026 (đi làm xa)")
	if m := rosterByName(t, e, c.ID)["Nguyễn Văn An"]; m.Participation != cell.Away || m.Until != "2026-12-31" || m.Reason != "đi làm xa" {
		t.Errorf("after the pick: %+v", m)
	}
	if m := rosterByName(t, e, c.ID)["Trần Văn An"]; m.Participation != cell.Regular {
		t.Errorf("the other An changed: %+v", m)
	}

	// A name with markup joins; every message naming it is escaped.
	tricky := e.srv.User("Tú")
	tricky.Start(payload)
	tricky.WaitMessage("họ và tên")
	tricky.Send("<b>Tú</b> & Co")
	tricky.WaitMessage("Không thấy tên «<b>Tú</b> & Co»")
	tricky.Press("➕ Gửi yêu cầu với tên «<b>Tú</b> & Co»")
	confirmNewcomer(e, secretary, secretary.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: <b>Tú</b> & Co"))
	tricky.WaitMessage("đồng chí <b>Tú</b> & Co là đảng viên")
	for _, method := range []string{"sendMessage", "editMessageText", "answerCallbackQuery", "editMessageReplyMarkup"} {
		for _, r := range e.srv.Requests(method) {
			if r.Code == 400 {
				t.Errorf("%s was refused: %s (params %v)", method, r.Description, r.Params)
			}
		}
	}
}

// sameRoster compares rosters, ignoring the linked account of the named member
// (who joined during the test).
func sameRoster(a, b map[string]cell.Member, joined string) bool {
	if len(a) != len(b) {
		return false
	}
	for name, m := range a {
		n := b[name]
		if name == joined {
			n.UserID = m.UserID
		}
		if n != m {
			return false
		}
	}
	return true
}
