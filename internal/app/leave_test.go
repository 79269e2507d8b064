package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// memberNamed is the stored record of the member of that name.
func memberNamed(t *testing.T, e *env, cellID int64, name string) cell.Member {
	t.Helper()
	m, ok := rosterByName(t, e, cellID)[name]
	if !ok {
		t.Fatalf("no member %s", name)
	}
	return m
}

// TestLeaveDiedGetsNothingAfter: a member who died is recorded with respect,
// gets no broadcast, notice or reminder after the date, is not expected at
// the next meeting, and is still in the export of the meeting before.
func TestLeaveDiedGetsNothingAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	died := mc.regular[0]
	holdMeeting(t, e, mc.clock, mc.seeded, time.Date(2026, 12, 2, 14, 0, 0, 0, hcm), false, func(string) how { return how{present: true} })

	sec.Send("/leave " + died + " từ trần")
	sec.WaitMessage("đã từ trần ngày 02/12/2026")
	m := memberNamed(t, e, mc.cell.ID, died)
	if m.Left != "2026-12-02" || m.LeftCause != cell.LeftDied || m.UserID != 0 {
		t.Fatalf("after /leave: %+v", m)
	}
	gone := mc.members[died]
	before := len(gone.Messages())

	sec.Send("/broadcast Họp chi ủy mở rộng")
	for _, name := range mc.regular[1:] {
		mc.members[name].WaitMessage("Họp chi ủy mở rộng")
	}
	sec.Send("/reminders 1d")
	sec.WaitMessage("Đã đặt nhắc lịch")
	sec.Send("/meeting 10/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi sinh hoạt định kỳ lúc Thứ Năm, 10/12/2026 14:00")
	for _, name := range mc.regular[1:] {
		mc.members[name].WaitMessage("Thứ Năm, 10/12/2026 14:00")
	}
	mc.advance(t, time.Date(2026, 12, 9, 14, 0, 0, 0, hcm))
	for _, name := range mc.regular[1:] {
		mc.members[name].WaitMessage("Nhắc lịch sinh hoạt chi bộ")
	}
	e.srv.WaitMessage(mc.group.ID(), "📊")
	if got := gone.Messages()[before:]; len(got) != 0 {
		t.Errorf("the member who died got %d messages after the date: %q", len(got), got[0].Text)
	}
	sec.Send("/members")
	list := sec.WaitMessage("Bấm vào tên")
	for _, row := range list.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, died) && !strings.Contains(b.Text, "đã ra khỏi danh sách") {
				t.Errorf("/members lists the member who died as on the roster: %q", b.Text)
			}
		}
	}

	sec.Send("/export Q4/2026")
	data := exportCSV(t, e, sec)
	if !bytes.Contains(data, []byte(died)) {
		t.Errorf("the export of the meeting before the date lost %s", died)
	}
}

// TestAttachmentEndsOnItsDate: an attached member leaves the roster on the day
// after their date, by the sweeper, and the committee is told once.
func TestAttachmentEndsOnItsDate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.leaveSweep = 20 * time.Millisecond
	mc := newMeetingCell(t, e)
	ctx := context.Background()
	name := mc.regular[1]
	m := memberNamed(t, e, mc.cell.ID, name)
	if _, err := e.store.UpdateMember(ctx, mc.cell.ID, m.ID, func(m *cell.Member) error {
		m.Participation, m.Until = cell.Attached, "2026-12-05"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The last day of the attachment: still on the roster.
	mc.advance(t, time.Date(2026, 12, 5, 23, 0, 0, 0, hcm))
	sec := mc.secretary
	sec.Send("/members")
	sec.WaitMessage("Bấm vào tên")
	if m := memberNamed(t, e, mc.cell.ID, name); m.Left != "" {
		t.Fatalf("left on the attachment's last day: %+v", m)
	}
	mc.advance(t, time.Date(2026, 12, 6, 0, 30, 0, 0, hcm))
	sec.WaitMessage("hết thời hạn sinh hoạt tạm thời (đến 05/12/2026)")
	e.srv.WaitUntil(func() bool {
		m := memberNamed(t, e, mc.cell.ID, name)
		return m.Left == "2026-12-06" && m.LeftCause == cell.LeftAttachmentEnded && m.UserID == 0
	})
	// A later pass tells nobody again.
	mc.advance(t, time.Date(2026, 12, 7, 9, 0, 0, 0, hcm))
	sec.Send("/settings")
	sec.WaitMessage("Cài đặt của")
	if n := count(sec, "hết thời hạn sinh hoạt tạm thời"); n != 1 {
		t.Errorf("the committee was told %d times", n)
	}
	mc.members[name].Send("/rsvp")
	mc.members[name].WaitMessage("chưa liên kết với chi bộ nào")
}

// TestUnlinkAndNewLink: /unlink ends an account's access at once and the
// member may link again; /newlink makes the old link say it was replaced.
func TestUnlinkAndNewLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	name := mc.regular[2]
	old := mc.members[name]

	sec.Send("/unlink " + name)
	sec.WaitMessage("Đã ngắt liên kết tài khoản Telegram của đồng chí <b>" + name)
	old.Send("/rsvp")
	old.WaitMessage("chưa liên kết với chi bộ nào")
	if m := memberNamed(t, e, mc.cell.ID, name); m.UserID != 0 || m.Left != "" {
		t.Fatalf("after /unlink: %+v", m)
	}

	oldPayload := mc.cell.JoinToken
	sec.Send("/newlink")
	sec.WaitMessage("Đã tạo liên kết mới")
	stranger := e.srv.User("Người Lạ")
	stranger.Opened()
	stranger.Start(oldPayload)
	stranger.WaitMessage("đã được thay bằng liên kết mới nên không dùng được nữa")

	c, err := e.store.Cell(context.Background(), mc.cell.ID)
	if err != nil || c.JoinToken == oldPayload {
		t.Fatalf("join token not renewed: %v", err)
	}
	fresh := e.srv.User(name + " mới")
	fresh.Opened()
	joinAs(t, fresh, sec, c.JoinToken, name)
	if m := memberNamed(t, e, mc.cell.ID, name); m.UserID != fresh.ID() {
		t.Fatalf("the member did not link again: %+v", m)
	}
}

// TestNoticesOptOut: an exempt member stops the notices and agendas, a regular
// member may not; announcements still reach the one who stopped them.
func TestNoticesOptOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	exempt, regular := mc.members[mc.exempt], mc.members[mc.regular[0]]

	exempt.Send("/notices off")
	exempt.WaitMessage("Từ nay bot không gửi thông báo họp")
	regular.Send("/notices off")
	regular.WaitMessage("cần nhận thông báo họp")
	if m := memberNamed(t, e, mc.cell.ID, mc.regular[0]); m.NoNotices {
		t.Fatal("a regular member opted out")
	}

	before := count(exempt, "Thông báo sinh hoạt chi bộ")
	mc.secretary.Send("/meeting 03/12/2026 14:00")
	mc.secretary.WaitMessage("Đã tạo buổi")
	for _, name := range append(mc.regular, mc.away) {
		mc.members[name].WaitMessage("Thông báo sinh hoạt chi bộ")
	}
	if n := count(exempt, "Thông báo sinh hoạt chi bộ"); n != before {
		t.Errorf("the exempt member who opted out got %d notices", n-before)
	}
	// The agenda is part of the notices; an announcement is not: it reaches
	// every member but the sender.
	mc.secretary.Send("/agenda 1. Kiểm điểm công tác tháng")
	mc.secretary.WaitMessage("Đã gửi xong")
	mc.secretary.Send("/broadcast Lịch tiêm phòng cúm cho các cụ")
	exempt.WaitMessage("Lịch tiêm phòng cúm cho các cụ")
	mc.members[mc.regular[1]].WaitMessage("Kiểm điểm công tác tháng")
	if n := count(exempt, "Kiểm điểm công tác tháng"); n != 0 {
		t.Errorf("the exempt member who opted out got the agenda %d times", n)
	}
	exempt.Send("/notices on")
	exempt.WaitMessage("gửi lại thông báo họp")
}

// TestLeaveBadInput: each bad /leave gets a sentence saying what to type and
// changes nothing.
func TestLeaveBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	tests := []struct {
		name, cmd, want string
	}{
		{"unknown cause", "/leave " + mc.regular[0] + " nghỉ hưu", "chuyển, từ trần, xóa tên, nhầm"},
		{"more than a year ahead", "/leave " + mc.regular[0] + " chuyển 02/12/2027", "xa hơn một năm"},
		{"an ambiguous name", "/leave Bình chuyển", "Xin chọn"},
		{"an unknown member", "/leave Không Có Ai chuyển", "Không tìm thấy đồng chí nào tên «Không Có Ai»"},
		{"no cause", "/leave", "Xin ghi: /leave"},
	}
	// Two namesakes by their given name.
	sec.SendDocument("more.csv", []byte("name,standing,participation,until,reason\nTrần Văn Bình,official,regular,,\nLê Văn Bình,official,regular,,\n"), "/import")
	sec.WaitMessage("Đã nhập 2 đồng chí")
	for _, tt := range tests {
		sec.Send(tt.cmd)
		got := sec.WaitMessage(tt.want)
		if tt.name == "an ambiguous name" && len(got.Buttons) < 2 {
			t.Errorf("%s: %d buttons", tt.name, len(got.Buttons))
		}
	}
	for _, m := range rosterByName(t, e, mc.cell.ID) {
		if m.Left != "" && m.Name != "Trần Văn Bình" {
			t.Errorf("%s left after bad input", m.Name)
		}
	}
	// The buttons pick one member, and that one leaves.
	sec.Press("Trần Văn Bình (sinh hoạt thường xuyên)")
	sec.WaitMessage("ra khỏi danh sách từ ngày 01/12/2026 (chuyển sinh hoạt đi)")
	if m := memberNamed(t, e, mc.cell.ID, "Trần Văn Bình"); m.Left != "2026-12-01" || m.LeftCause != cell.LeftTransfer {
		t.Errorf("picked member: %+v", m)
	}
}

// exportCSV waits for the CSV that /export sent to u, and returns its bytes:
// not the minutes draft (.docx) /close sends the committee first.
func exportCSV(t *testing.T, e *env, u *telegramtest.User) []byte {
	t.Helper()
	var doc telegramtest.Message
	e.srv.WaitUntil(func() bool {
		for _, m := range u.Messages() {
			if m.DocumentFileID != "" && strings.HasSuffix(m.FileName, ".csv") {
				doc = m
				return true
			}
		}
		return false
	})
	data, _, _ := e.srv.FileData(doc.DocumentFileID)
	return data
}
