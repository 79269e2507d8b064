package app_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestRSVPCheckinRollCallClose is a real cell: 74 members, 51 expected,
// all linked. Every expected member answers at once (the bot is restarted in the
// middle of the presses), 6 of them excused with different reasons; 40 check in by
// code, 3 more by roll call; /close gives the committee the summary and the group
// the counts, and nobody but the committee sees who was excused or why.
func TestRSVPCheckinRollCallClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
	ck := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	roster := names(74) // Nguyễn Thị Lan (secretary), Đảng Viên Số 001…073
	s := seedCell(t, e, roster, nil)
	ctx := context.Background()
	ms, err := e.store.Members(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	num := func(name string) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(name, "Đảng Viên Số "))
		return n
	}
	// 051–063 exempt, 064–073 away: 23 not expected, 51 expected.
	for _, m := range ms {
		n := num(m.Name)
		p, until := cell.Participation(""), ""
		switch {
		case n >= 51 && n <= 63:
			p = cell.Exempt
		case n >= 64:
			p, until = cell.Away, "2027-06-30"
		default:
			continue
		}
		if _, err := e.store.UpdateMember(ctx, s.cell.ID, m.ID, func(m *cell.Member) error {
			m.Participation, m.Until = p, until
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	who := func(n int) *telegramtest.User { return s.members[fmt.Sprintf("Đảng Viên Số %03d", n)] }
	sec := s.secretary
	sec.Send("/meeting 03/12/2026 14:00 at Nhà văn hóa khu phố")
	sec.WaitMessage("Đã tạo buổi")
	for _, u := range s.members {
		u.WaitMessage("Thông báo sinh hoạt chi bộ")
	}
	e.srv.WaitMessage(s.group.ID(), "Thông báo sinh hoạt chi bộ")

	// 001–006 excused, everyone else expected says coming; all at once.
	expected := []*telegramtest.User{sec}
	for n := 1; n <= 50; n++ {
		expected = append(expected, who(n))
	}
	for i, u := range expected {
		if i >= 1 && i <= 6 {
			u.Press("❌ Xin vắng")
		} else {
			u.Press("✅ Tham dự")
		}
		if i == 25 {
			// Restarted in the middle of the presses: no answer is lost.
			e.running.stop()
			e.start()
		}
	}
	e.srv.WaitUntil(func() bool { return countContaining(who(6).Messages(), "Xin đồng chí chọn lý do") >= 1 })
	reasons := []string{"🧳 Công tác, đi xa", "🧳 Công tác, đi xa", "🤒 Ốm đau", "🤒 Ốm đau", "🏠 Việc gia đình", "✏️ Lý do khác"}
	for i, label := range reasons {
		u := who(i + 1)
		e.srv.WaitUntil(func() bool { return countContaining(u.Messages(), "Xin đồng chí chọn lý do") >= 1 })
		u.Press(label)
	}
	who(6).WaitMessage("Xin đồng chí gõ lý do")
	who(6).Send("Đi khám bệnh định kỳ ở tỉnh")
	who(6).WaitMessage("Đã ghi nhận lý do")

	final := "trong 51 đồng chí phải dự, 45 tham dự, 6 xin vắng, 0 chưa chắc, 0 chưa trả lời"
	e.srv.WaitUntil(func() bool {
		for _, m := range e.srv.Messages(s.group.ID()) {
			if strings.Contains(m.Text, "Thông báo sinh hoạt chi bộ") && strings.Contains(m.Text, final) {
				return true
			}
		}
		return false
	})
	edits := 0
	for _, r := range e.srv.Requests("editMessageText") {
		if r.Params["chat_id"] == strconv.FormatInt(s.group.ID(), 10) && r.Code == 200 {
			edits++
		}
	}
	t.Logf("group notice edited %d times for %d answers", edits, len(expected)+len(reasons)+1)
	if edits > 15 {
		t.Errorf("the group notice was edited %d times; presses should coalesce", edits)
	}
	answered := 0
	for _, r := range e.srv.Requests("answerCallbackQuery") {
		if r.Code == 200 {
			answered++
		}
	}
	if want := len(expected) + len(reasons); answered < want {
		t.Errorf("%d presses answered, want %d", answered, want)
	}
	stored, err := e.store.Answers(ctx, s.cell.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 51 {
		t.Errorf("%d answers stored, want 51", len(stored))
	}

	// Check-in from 13:30: 40 by code (some typing the code alone in private,
	// some sending /checkin CODE in the group), one locked out after three
	// wrong codes.
	ck.Set(time.Date(2026, 12, 3, 13, 30, 0, 0, hcm))
	sec.Send("/checkin")
	opened := sec.WaitMessage("Mã điểm danh")
	code := regexp.MustCompile(`Mã điểm danh: (\d{4})`).FindStringSubmatch(opened.Text + opened.Caption)
	if code == nil {
		t.Fatalf("no code in %q", opened.Text)
	}
	sec.Send("/checkin " + code[1])
	for n := 12; n <= 50; n++ {
		switch {
		case n%5 == 0:
			s.group.Add(who(n))
			who(n).SendIn(s.group, "/checkin "+code[1])
		case n%2 == 0:
			who(n).Send(code[1])
		default:
			who(n).Send("/checkin " + code[1])
		}
	}
	locked := who(11)
	wrong := fmt.Sprintf("%04d", (mustAtoi(t, code[1])+1)%10000)
	for range 3 {
		locked.Send("/checkin " + wrong)
	}
	locked.Send("/checkin " + code[1])
	locked.WaitMessage("sai mã 3 lần")
	for n := 12; n <= 50; n++ {
		who(n).WaitMessage("Đã điểm danh") // privately, from the group too
	}
	if n := countContaining(e.srv.Messages(s.group.ID()), "Đã điểm danh"); n != 0 {
		t.Errorf("%d check-ins from the group were confirmed in the group, want them in private", n)
	}
	sec.WaitMessage("Đã điểm danh")

	// Roll call for 009, 010 and the locked-out 011.
	sec.Send("/attendance")
	sec.WaitMessage("Điểm danh buổi")
	for n := 9; n <= 11; n++ {
		name := fmt.Sprintf("Đảng Viên Số %03d", n)
		sec.Press("⬜ " + name)
		e.srv.WaitUntil(func() bool {
			for _, m := range sec.Messages() {
				for _, r := range m.Buttons {
					for _, b := range r {
						if b.Text == "✅ "+name {
							return true
						}
					}
				}
			}
			return false
		})
	}

	// A member cannot close; the secretary closes after the start.
	who(20).Send("/close")
	who(20).WaitMessage("chỉ dành cho chi ủy")
	sec.Send("/close")
	sec.WaitMessage("chưa bắt đầu")
	ck.Set(time.Date(2026, 12, 3, 14, 5, 0, 0, hcm))
	sec.Send("/close")
	sum := sec.WaitMessage("Tổng kết buổi sinh hoạt")
	// By hand: present 40 by code + 3 by roll call = 43 of 51 expected, 43/51 =
	// 84.31%, under the 85% target. Vote base: 74 official − 10 away − 13 exempt
	// absent − 6 excused = 45; threshold 45/2+1 = 23. Absent without reason: 007,
	// 008, who said coming.
	for _, want := range []string{
		"Có mặt: 43/51 đồng chí phải dự, tỷ lệ 84,3% (chỉ tiêu 85%: chưa đạt)",
		"Vắng có lý do (6)",
		"Đảng Viên Số 006 (✏️ Lý do khác: Đi khám bệnh định kỳ ở tỉnh)",
		"Đảng Viên Số 003 (🤒 Ốm đau)",
		"Vắng không lý do (2): Đảng Viên Số 007, Đảng Viên Số 008",
		"Báo tham dự nhưng không đến (2): Đảng Viên Số 007, Đảng Viên Số 008",
		"74 đảng viên chính thức − 10 tạm miễn − 13 miễn sinh hoạt vắng mặt − 6 vắng có lý do = 45 đồng chí biểu quyết",
		"từ 23 phiếu tán thành",
	} {
		if !strings.Contains(sum.Text, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.Text)
		}
	}
	e.srv.WaitMessage(s.group.ID(), "Có mặt 43/51 đồng chí phải dự (84,3%); 6 vắng có lý do, 2 vắng không lý do")

	// Privacy: excused names and reasons never reach the group or a plain member.
	secret := []string{"Đi khám bệnh", "Ốm đau (", "Đảng Viên Số 001", "Đảng Viên Số 003", "Đảng Viên Số 007"}
	for _, m := range e.srv.Messages(s.group.ID()) {
		for _, x := range secret {
			if strings.Contains(m.Text, x) {
				t.Errorf("the group saw %q: %q", x, m.Text)
			}
		}
	}
	for _, m := range who(30).Messages() {
		for _, x := range secret {
			if strings.Contains(m.Text, x) {
				t.Errorf("a plain member saw %q: %q", x, m.Text)
			}
		}
	}
	// The code died with /close.
	who(45).Send("/checkin " + code[1])
	who(45).WaitMessage("không có buổi họp nào đang điểm danh")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCloseSummaryOverOneMessage: 39 members excused with 200-character
// reasons make a committee summary over Telegram's 4,096 characters; it arrives
// in several messages, each within the limit, with every reason and the vote.
func TestCloseSummaryOverOneMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ck := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	s := seedCell(t, e, names(40), nil)
	sec := s.secretary
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi")
	// The notice first, so that it cannot come between the summary's parts.
	sec.WaitMessage("Thông báo sinh hoạt chi bộ")
	ctx := context.Background()
	meetings, err := e.store.Meetings(ctx, s.cell.ID, ck.Now(), ck.Now().AddDate(0, 1, 0))
	if err != nil || len(meetings) != 1 {
		t.Fatalf("meetings = %v, %v; want one", meetings, err)
	}
	ms, err := e.store.Members(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Each reason is unique, 200 characters, with characters HTML escapes.
	reasons := map[string]string{}
	for _, m := range ms {
		if m.UserID == sec.ID() {
			continue
		}
		reason := m.Name + ":"
		for utf8.RuneCountInString(reason) < 200 {
			reason += " đi công tác <xa> & về muộn"
		}
		reason = string([]rune(reason)[:200])
		reasons[m.Name] = reason
		a := cell.Answer{MemberID: m.ID, Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: reason, At: ck.Now()}
		if err := e.store.SetAnswer(ctx, s.cell.ID, meetings[0].ID, m.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	if len(reasons) != 39 {
		t.Fatalf("%d reasons, want 39", len(reasons))
	}

	ck.Set(time.Date(2026, 12, 3, 14, 5, 0, 0, hcm))
	sec.Send("/close")
	sec.WaitMessage("đồng chí biểu quyết")
	// The summary's parts, from its head to the vote; the reply to /close may
	// come between them.
	msgs := sec.Messages()
	head := slices.IndexFunc(msgs, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "Tổng kết buổi sinh hoạt") })
	if head < 0 {
		t.Fatal("no summary")
	}
	var parts []string
	for _, m := range msgs[head:] {
		if !strings.Contains(m.Text, "Đã kết thúc buổi họp") {
			parts = append(parts, m.Text)
		}
		if strings.Contains(m.Text, "đồng chí biểu quyết") {
			break
		}
	}
	if len(parts) < 2 || !strings.Contains(parts[0], "Tổng kết buổi sinh hoạt") || !strings.Contains(parts[len(parts)-1], "đồng chí biểu quyết") {
		t.Fatalf("summary in %d messages, want several from its head to the vote: %q", len(parts), parts)
	}
	for i, p := range parts {
		if n := len(utf16.Encode([]rune(p))); n > 4096 {
			t.Errorf("part %d is %d characters long", i+1, n)
		}
	}
	// A cut drops the space or line break it is made at.
	all := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	if !strings.Contains(all, "Vắng có lý do (39)") {
		t.Errorf("the summary does not count 39 excused")
	}
	for name, reason := range reasons {
		if want := strings.Join(strings.Fields(reason), " "); !strings.Contains(all, want) {
			t.Errorf("the reason of %s is not whole in the summary: %q", name, want)
		}
	}
}
