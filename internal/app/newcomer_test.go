package app_test

import (
	"context"
	"slices"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// confirmNewcomer confirms the join request of a name not on the roster from
// its notice: the confirmation, then the newcomer's standing and participation
// as the bot asks them (official, regular), each pressed once the notice shows
// its button.
func confirmNewcomer(e *env, u *telegramtest.User, notice telegramtest.Message) {
	for _, label := range []string{"✅ Xác nhận", "Chính thức", "Thường xuyên"} {
		e.srv.WaitUntil(func() bool {
			for _, m := range u.Messages() {
				if m.MessageID == notice.MessageID {
					return slices.Contains(buttonLabels(m), label)
				}
			}
			return false
		})
		u.PressOn(notice, label)
	}
}

// TestNewcomerStandingIsAsked: confirming a request under a name that is not
// on the roster asks the committee member for the newcomer's standing and
// participation; nothing is added until both are chosen, and the member is
// added with them, not as an official regular member by default.
func TestNewcomerStandingIsAsked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec := cs.secretary
	tests := []struct {
		name, user     string
		standing, part string // the buttons pressed
		want           cell.Member
	}{
		{"probationary exempt", "Trần Văn Mới", "Dự bị", "Miễn", cell.Member{Standing: cell.Probationary, Participation: cell.Exempt}},
		{"official attached", "Phạm Văn Khách", "Chính thức", "Tạm thời", cell.Member{Standing: cell.Official, Participation: cell.Attached}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := e.srv.User(tt.user)
			u.Start(cs.payload)
			u.WaitMessage("họ và tên")
			u.Send(tt.user)
			u.WaitMessage("Không thấy tên «" + tt.user + "»")
			u.Press("➕ Gửi yêu cầu với tên «" + tt.user + "»")
			u.WaitMessage("chờ chi ủy xác nhận")
			notice := sec.WaitMessage("Yêu cầu liên kết tài khoản Telegram với Chi bộ Khu phố 3: " + tt.user)
			sec.PressOn(notice, "✅ Xác nhận")
			sec.WaitMessage("Thêm đồng chí <b>" + tt.user + "</b> vào danh sách. Đồng chí là đảng viên chính thức hay dự bị?")
			sec.PressOn(notice, tt.standing)
			sec.WaitMessage("Đồng chí sinh hoạt thế nào?")
			if _, ok := rosterByName(t, e, cs.cell.ID)[tt.user]; ok {
				t.Fatal("the newcomer was added before the committee member chose their participation")
			}
			if _, err := e.store.JoinRequestOf(context.Background(), cs.cell.ID, u.ID()); err != nil {
				t.Fatalf("the request is no longer pending while asked: %v", err)
			}
			sec.PressOn(notice, tt.part)
			u.WaitMessage("Chi ủy đã xác nhận")
			m := rosterByName(t, e, cs.cell.ID)[tt.user]
			if m.Standing != tt.want.Standing || m.Participation != tt.want.Participation || m.UserID != u.ID() {
				t.Errorf("added as %+v; want %s, %s", m, tt.want.Standing, tt.want.Participation)
			}
		})
	}
}
