package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/minutes"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestMinutesDraft is a topical meeting of the 74-member cell with a parent
// organisation, a topic, a chair and a minute-taker, three agenda items, two
// guests, mixed attendance (excused with reasons, absent without reason,
// probationary, attached, exempt and away members who came) and votes, one
// passed and one not. After /close the committee, and nobody else, gets the
// minutes draft; read back, it holds every figure and name of the committee's
// summary, the votes and the header. Bad votes and names are refused with a
// sentence and store nothing.
func TestMinutesDraft(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
	ck := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	s := seedCell(t, e, names(74), nil)
	ctx := context.Background()
	who := func(n int) *telegramtest.User { return s.members[fmt.Sprintf("Đảng Viên Số %03d", n)] }
	ms, err := e.store.Members(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	// 051–063 exempt, 064–073 away, 048 attached from another cell, 049 and
	// 050 probationary, 001 on the committee.
	for _, m := range ms {
		id[m.Name] = m.ID
		var n int
		if _, err := fmt.Sscanf(m.Name, "Đảng Viên Số %d", &n); err != nil {
			continue
		}
		change := func(m *cell.Member) error {
			switch {
			case n == 1:
				m.Role = cell.RoleCommittee
			case n == 48:
				m.Participation, m.Until = cell.Attached, "2027-06-30"
			case n == 49 || n == 50:
				m.Standing = cell.Probationary
			case n >= 51 && n <= 63:
				m.Participation = cell.Exempt
			case n >= 64:
				m.Participation, m.Until = cell.Away, "2027-06-30"
			default:
				return nil
			}
			return nil
		}
		if _, err := e.store.UpdateMember(ctx, s.cell.ID, m.ID, change); err != nil {
			t.Fatal(err)
		}
	}
	sec := s.secretary

	// No meeting yet: a vote is refused.
	sec.Send("/vote 10 2 Nghị quyết")
	sec.WaitMessage("Không có buổi họp nào đang diễn ra")

	sec.Send("/parent Đảng bộ phường Mỹ Phước")
	sec.WaitMessage("Đã ghi đảng bộ cấp trên")
	topic := "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh"
	sec.Send(`/meeting 03/12/2026 14:00 chuyên đề "` + topic + `" at Nhà văn hóa khu phố 3`)
	sec.WaitMessage("Đã tạo buổi")
	who(20).WaitMessage("📌 Chủ đề: " + topic)
	sec.Send("/chair Đảng Viên Số 001")
	sec.WaitMessage("Đảng Viên Số 001 chủ trì buổi họp")
	sec.Send("/minutetaker Đảng Viên Số 002")
	sec.WaitMessage("Đảng Viên Số 002 làm thư ký buổi họp")
	n := len(who(20).Messages())
	who(20).Send("/meetings")
	e.srv.WaitUntil(func() bool {
		msgs := who(20).Messages()
		return len(msgs) > n && strings.Contains(msgs[len(msgs)-1].Text, "📌 Chủ đề: "+topic)
	})
	sec.Send("/chair Không Có Ai")
	sec.WaitMessage("Không tìm thấy đồng chí nào tên «Không Có Ai»")
	sec.Send("/guest Trần Văn Bình, Phó Bí thư Tỉnh ủy")
	sec.WaitMessage("Đã ghi khách mời Trần Văn Bình")
	sec.Send("/guest Lê Thị Hoa, Bí thư Đảng ủy phường Mỹ Phước")
	sec.WaitMessage("Đã ghi khách mời Lê Thị Hoa")
	agenda := []string{"Báo cáo kết quả thực hiện nhiệm vụ quý IV", "Triển khai nhiệm vụ năm 2027", "Thảo luận nghị quyết của chi bộ"}
	sec.Send("/agenda 1. " + agenda[0] + "\n2. " + agenda[1] + "\n3. " + agenda[2])
	who(20).WaitMessage(agenda[2])
	// A PDF sent with /agenda after the notice went: every member gets it at
	// once, by the file id Telegram gave it (one file, never uploaded again).
	// Two days ahead: no warning.
	sec.SendDocument("Du-thao-nghi-quyet.pdf", []byte("%PDF-1.4 dự thảo nghị quyết"), "/agenda")
	fileIDs := map[string]bool{}
	for _, n := range []int{1, 20, 51, 70} {
		u := who(n)
		e.srv.WaitUntil(func() bool {
			for _, m := range u.Messages() {
				if m.FileName == "Du-thao-nghi-quyet.pdf" {
					fileIDs[m.DocumentFileID] = true
					return true
				}
			}
			return false
		})
	}
	if len(fileIDs) != 1 {
		t.Errorf("the document reached members as %d files, want one file id", len(fileIDs))
	}
	// Less than a day before the meeting: the committee is warned.
	ck.Set(time.Date(2026, 12, 3, 10, 0, 0, 0, hcm))
	sec.SendDocument("Phu-luc.pdf", []byte("%PDF-1.4 phụ lục"), "/agenda")
	committee := who(1)
	committee.WaitMessage("Tài liệu Phu-luc.pdf của buổi họp")
	e.srv.WaitUntil(func() bool { return hasFile(who(20), "Phu-luc.pdf") })
	if n := countContaining(who(20).Messages(), "chưa đủ một ngày"); n != 0 {
		t.Errorf("a plain member got the committee's warning")
	}

	meetings, err := e.store.Meetings(ctx, s.cell.ID, ck.Now(), ck.Now().AddDate(0, 1, 0))
	if err != nil || len(meetings) != 1 {
		t.Fatalf("meetings = %v, %v; want one", meetings, err)
	}
	mid := meetings[0].ID

	// Answers and presence as the buttons, codes and roll call leave them.
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, hcm)
	excused := map[int]cell.Answer{
		3: {Kind: cell.Excused, Reason: cell.ReasonIllness},
		4: {Kind: cell.Excused, Reason: cell.ReasonWork},
		5: {Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: "Đi khám bệnh định kỳ ở tỉnh"},
		7: {Kind: cell.Coming},
	}
	for n, a := range excused {
		a.MemberID, a.At = id[fmt.Sprintf("Đảng Viên Số %03d", n)], at
		if err := e.store.SetAnswer(ctx, s.cell.ID, mid, a.MemberID, a); err != nil {
			t.Fatal(err)
		}
	}
	present := []string{"Nguyễn Thị Lan"}
	for n := 1; n <= 64; n++ {
		if n == 3 || n == 4 || n == 5 || n == 7 || n == 8 || (n > 51 && n < 64) {
			continue
		}
		present = append(present, fmt.Sprintf("Đảng Viên Số %03d", n))
	}
	for _, name := range present {
		p := cell.Presence{MemberID: id[name], Mark: cell.PresentByRollCall, At: time.Date(2026, 12, 3, 14, 0, 0, 0, hcm)}
		if err := e.store.SetPresence(ctx, s.cell.ID, mid, p); err != nil {
			t.Fatal(err)
		}
	}

	if len(meetings[0].Documents) != 2 {
		t.Errorf("documents on the meeting: %+v, want 2", meetings[0].Documents)
	}

	// The meeting is under way. Present who may vote: 43 official regular
	// members (of 44 official present expected, the attached 048 apart), the
	// exempt 051 and the away 064 who came: 45.
	ck.Set(time.Date(2026, 12, 3, 15, 0, 0, 0, hcm))
	for _, tt := range []struct{ send, wait, ends string }{
		{"/vote 40 5 1 Nghị quyết chuyên đề", "Tổng 46 phiếu nhiều hơn 45 đồng chí có mặt được biểu quyết", ""},
		{"/vote 40 -1 Nghị quyết chuyên đề", "Số phiếu không thể âm", ""},
		{"/vote 40 3 2 Nghị quyết chuyên đề", "Nghị quyết chuyên đề (buổi họp", "cần từ 24 phiếu tán thành: thông qua."},
		{"/vote 20 20 5 Kết nạp đảng viên", "Kết nạp đảng viên (buổi họp", "cần từ 24 phiếu tán thành: không thông qua."},
		{"/vote 39 4 2 nghi quyet chuyen de", "Đã thay kết quả biểu quyết trước", ""},
	} {
		sec.Send(tt.send)
		if got := sec.WaitMessage(tt.wait).Text; !strings.HasSuffix(got, tt.ends) {
			t.Errorf("%s: got %q, want it to end with %q", tt.send, got, tt.ends)
		}
	}
	m, err := e.store.Meeting(ctx, s.cell.ID, mid)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Ballots) != 2 || m.Ballots[0].For != 39 || m.Ballots[1].For != 20 {
		t.Fatalf("ballots stored: %+v; want the replaced vote and the second one only", m.Ballots)
	}

	ck.Set(time.Date(2026, 12, 3, 16, 30, 0, 0, hcm))
	sec.Send("/close")
	sum := sec.WaitMessage("Tổng kết buổi sinh hoạt")
	const file = "Bien-ban-03-12-2026.docx"
	draftOf := func(u *telegramtest.User, nth int) string {
		t.Helper()
		var got telegramtest.Message
		e.srv.WaitUntil(func() bool {
			k := 0
			for _, m := range u.Messages() {
				if m.FileName == file {
					if k++; k == nth {
						got = m
						return true
					}
				}
			}
			return false
		})
		data, _, ok := e.srv.FileData(got.DocumentFileID)
		if !ok {
			t.Fatalf("no file %s", got.DocumentFileID)
		}
		paras, err := minutes.Paragraphs(data)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(paras, "\n")
	}
	doc := draftOf(sec, 1)
	if other := draftOf(committee, 1); other != doc {
		t.Errorf("the committee member got another draft than the secretary's")
	}

	// Every figure of the summary the committee got is in the draft.
	for _, fig := range regexp.MustCompile(`\d+(?:,\d+)?%?`).FindAllString(sum.Text, -1) {
		if fig == "03" || fig == "12" || fig == "2026" || fig == "14" || fig == "00" {
			continue // the date and time, written out in the draft
		}
		if !strings.Contains(doc, fig) {
			t.Errorf("the draft lacks the summary's figure %s", fig)
		}
	}
	// Every name the summary gives, and the header, topic, votes and times.
	wants := append([]string{}, present...)
	wants = append(wants,
		"ĐẢNG BỘ PHƯỜNG MỸ PHƯỚC", "CHI BỘ KHU PHỐ 3", "Số …-BB/CB", "ĐẢNG CỘNG SẢN VIỆT NAM", "ngày 03 tháng 12 năm 2026",
		"BIÊN BẢN SINH HOẠT CHI BỘ CHUYÊN ĐỀ THÁNG 12/2026", "Chuyên đề: “"+topic+"”",
		"Thời gian bắt đầu: 14 giờ 00 phút, ngày 03 tháng 12 năm 2026.", "Địa điểm: Nhà văn hóa khu phố 3.",
		"Chủ trì: đồng chí Đảng Viên Số 001.", "Thư ký: đồng chí Đảng Viên Số 002.",
		"Tổng số đảng viên của chi bộ: 73 đồng chí (chính thức: 71, dự bị: 2); trong đó miễn sinh hoạt: 13, tạm miễn sinh hoạt: 10.",
		"không tính vào đảng số): 1 đồng chí: Đảng Viên Số 048.",
		"Số đảng viên phải có mặt: 51 đồng chí.", "Có mặt: 46 đồng chí (chính thức: 43, dự bị: 2, sinh hoạt tạm thời: 1).",
		"Đảng viên sinh hoạt tạm thời có mặt: Đảng Viên Số 048.",
		"Vắng có lý do: 3 đồng chí: Đảng Viên Số 003 (ốm đau); Đảng Viên Số 004 (công tác); Đảng Viên Số 005 (lý do khác: Đi khám bệnh định kỳ ở tỉnh).",
		"Vắng không có lý do: 2 đồng chí: Đảng Viên Số 007, Đảng Viên Số 008.",
		"có dự: 2 đồng chí: Đảng Viên Số 051, Đảng Viên Số 064.",
		"Khách mời: 2: Trần Văn Bình — Phó Bí thư Tỉnh ủy; Lê Thị Hoa — Bí thư Đảng ủy phường Mỹ Phước.",
		"Tỷ lệ đảng viên dự sinh hoạt: 90,2% (46/51 đồng chí phải có mặt)",
		"1. "+agenda[0], "2. "+agenda[1], "3. "+agenda[2],
		"nghi quyet chuyen de: tán thành 39, không tán thành 4, không biểu quyết 2 (có mặt được biểu quyết: 45;",
		"Kết nạp đảng viên: tán thành 20, không tán thành 20, không biểu quyết 5 (có mặt được biểu quyết: 45;",
		"Buổi sinh hoạt kết thúc lúc 16 giờ 30 phút cùng ngày.", "CHỦ TRÌ", "THƯ KÝ",
	)
	for _, want := range wants {
		if !strings.Contains(doc, want) {
			t.Errorf("the draft lacks %q", want)
		}
	}
	if strings.Count(doc, ": thông qua.") != 1 || strings.Count(doc, ": không thông qua.") != 1 {
		t.Errorf("the draft does not give one vote passed and one not:\n%s", doc)
	}
	for _, want := range []string{"🗳 nghi quyet chuyen de: 39 tán thành", "🗳 Kết nạp đảng viên: 20 tán thành"} {
		if !strings.Contains(sum.Text, want) {
			t.Errorf("the summary lacks the vote %q", want)
		}
	}

	// A vote typed in after the meeting, the same evening, goes into the
	// draft asked for again; two days later there is no meeting to vote at.
	ck.Set(time.Date(2026, 12, 3, 20, 0, 0, 0, hcm))
	sec.Send("/vote 30 10 5 Kế hoạch năm 2027")
	sec.WaitMessage("Kế hoạch năm 2027 (buổi họp")
	sec.Send("/minutes 03/12/2026")
	if doc := draftOf(sec, 2); !strings.Contains(doc, "Kế hoạch năm 2027: tán thành 30") {
		t.Errorf("the draft asked for again lacks the later vote")
	}
	ck.Set(time.Date(2026, 12, 5, 9, 0, 0, 0, hcm))
	sec.Send("/vote 30 10 5 Muộn quá")
	sec.WaitMessage("Không có buổi họp nào đang diễn ra hay vừa kết thúc")
	sec.Send("/minutes 04/12/2026")
	sec.WaitMessage("Không có buổi họp nào đã kết thúc vào ngày 04/12/2026")
	who(20).Send("/minutes")
	who(20).WaitMessage("chỉ dành cho chi ủy")
	if m, err := e.store.Meeting(ctx, s.cell.ID, mid); err != nil || len(m.Ballots) != 3 {
		t.Errorf("ballots after the late votes: %+v, %v; want 3", m.Ballots, err)
	}

	// Nobody but the committee gets the draft: not the group, not a member.
	for _, u := range []*telegramtest.User{who(2), who(20), who(51)} {
		for _, m := range u.Messages() {
			if strings.HasSuffix(m.FileName, ".docx") {
				t.Errorf("a plain member got %s", m.FileName)
			}
		}
	}
	for _, m := range e.srv.Messages(s.group.ID()) {
		if strings.HasSuffix(m.FileName, ".docx") || strings.Contains(m.Text, "Đảng Viên Số 003") {
			t.Errorf("the group got the draft or a name: %q %q", m.FileName, m.Text)
		}
	}
}

func hasFile(u *telegramtest.User, name string) bool {
	for _, m := range u.Messages() {
		if m.FileName == name {
			return true
		}
	}
	return false
}
