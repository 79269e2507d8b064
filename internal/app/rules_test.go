package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// how says what one member did at a meeting: came, excused with a reason (or
// none), or neither (absent without reason).
type how struct {
	present  bool
	excused  bool
	reason   cell.ReasonCategory // "" with excused: pressed "excused", gave no reason
	attached bool                // sinh hoạt tạm thời, from another cell
}

// holdMeeting creates a meeting at start, records each member's answer and
// presence as did says (in the store, as the buttons and check-in would), and
// closes it from the secretary's private chat. It returns once the secretary
// has the whole summary (its last line is the vote).
func holdMeeting(t *testing.T, e *env, ck *clock, s seeded, start time.Time, topical bool, did func(name string) how) {
	t.Helper()
	ctx := context.Background()
	sec := s.secretary
	ck.Set(start.Add(-5 * time.Hour))
	kind := ""
	if topical {
		kind = " topical"
	}
	created := countContaining(sec.Messages(), "Đã tạo buổi")
	sec.Send(fmt.Sprintf("/meeting %s%s", start.Format("02/01/2006 15:04"), kind))
	e.srv.WaitUntil(func() bool { return countContaining(sec.Messages(), "Đã tạo buổi") > created })
	ms, err := e.store.Meetings(ctx, s.cell.ID, start.Add(-time.Minute), start.Add(time.Minute))
	if err != nil || len(ms) != 1 {
		t.Fatalf("meetings at %s = %v, %v; want one", start, ms, err)
	}
	m := ms[0]
	members, err := e.store.Members(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, mem := range members {
		h := did(mem.Name)
		if h.excused {
			a := cell.Answer{MemberID: mem.ID, Kind: cell.Excused, Reason: h.reason, At: start.Add(-4 * time.Hour)}
			if err := e.store.SetAnswer(ctx, s.cell.ID, m.ID, mem.ID, a); err != nil {
				t.Fatal(err)
			}
		}
		if h.present {
			p := cell.Presence{MemberID: mem.ID, Mark: cell.PresentByRollCall, At: start.Add(time.Minute)}
			if err := e.store.SetPresence(ctx, s.cell.ID, m.ID, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	ck.Set(start.Add(2 * time.Hour))
	closed := countContaining(sec.Messages(), "đồng chí biểu quyết")
	sec.Send("/close")
	e.srv.WaitUntil(func() bool { return countContaining(sec.Messages(), "đồng chí biểu quyết") > closed })
}

// lastSummary is the newest summary the secretary got, from its head to the
// vote; the reply to /close may come between its parts.
func lastSummary(t *testing.T, u *telegramtest.User) string {
	t.Helper()
	msgs := u.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text, "Tổng kết buổi sinh hoạt") {
			var parts []string
			for _, m := range msgs[i:] {
				if !strings.Contains(m.Text, "Đã kết thúc buổi họp") {
					parts = append(parts, m.Text)
				}
				if strings.Contains(m.Text, "đồng chí biểu quyết") {
					break
				}
			}
			return strings.Join(parts, "\n")
		}
	}
	t.Fatal("no summary")
	return ""
}

// TestCloseTargetAtTheEdges: a meeting meets the target only when its rate is
// above it and nobody expected is absent without reason, and the summary says
// which of the two fails. The cell has 20 members (the secretary and 19),
// all official and regular but where a case says otherwise.
func TestCloseTargetAtTheEdges(t *testing.T) {
	t.Parallel()
	num := func(name string) int {
		var n int
		fmt.Sscanf(name, "Đảng Viên Số %d", &n) // the secretary is 0
		return n
	}
	tests := []struct {
		name    string
		did     func(n int) how
		want    []string
		notWant []string
	}{
		{
			// 001–016 and the secretary came: 17 of 20 = 85,0%; 017–019 excused
			// with reasons. 85,0% is not above 85%: not met, for the rate only.
			name: "85.0% is not above the target",
			did: func(n int) how {
				if n >= 17 {
					return how{excused: true, reason: cell.ReasonWork}
				}
				return how{present: true}
			},
			want: []string{
				"Có mặt: 17/20 đồng chí phải dự, tỷ lệ 85,0% (chỉ tiêu 85%: chưa đạt)",
				"Chưa đạt chỉ tiêu vì: tỷ lệ 85,0% chưa vượt 85%.",
				"Vắng có lý do (3)",
				"Vắng không lý do (0)",
				// Base: 20 official − 3 excused = 17; threshold 17/2+1 = 9.
				"20 đảng viên chính thức − 0 tạm miễn − 0 miễn sinh hoạt vắng mặt − 3 vắng có lý do = 17 đồng chí biểu quyết",
				"từ 9 phiếu tán thành",
			},
			notWant: []string{"vắng không lý do."},
		},
		{
			// 18 of 20 = 90,0%, above 85%; 018 excused, 019 neither came nor
			// asked: not met, for the absence only.
			name: "one absent without reason",
			did: func(n int) how {
				switch {
				case n == 18:
					return how{excused: true, reason: cell.ReasonIllness}
				case n == 19:
					return how{}
				}
				return how{present: true}
			},
			want: []string{
				"Có mặt: 18/20 đồng chí phải dự, tỷ lệ 90,0% (chỉ tiêu 85%: chưa đạt)",
				"Chưa đạt chỉ tiêu vì: có 1 đồng chí phải dự vắng không lý do.",
				"Vắng không lý do (1): Đảng Viên Số 019",
				// Base: 20 − 1 excused = 19 (019 stays in it); threshold 19/2+1 = 10.
				"= 19 đồng chí biểu quyết",
				"từ 10 phiếu tán thành",
			},
			notWant: []string{"chưa vượt"},
		},
		{
			// 019 is attached from another cell and came: 19 of 20 expected
			// came (95,0%), 018 pressed "excused" with no reason, which counts
			// as excused: met. The total and the vote base leave 019 out:
			// đảng số 19; base 19 official − 1 excused = 18, threshold 10.
			name: "an attached member and an excuse without a reason",
			did: func(n int) how {
				switch {
				case n == 18:
					return how{excused: true}
				case n == 19:
					return how{present: true, attached: true}
				}
				return how{present: true}
			},
			want: []string{
				"Có mặt: 19/20 đồng chí phải dự, tỷ lệ 95,0% (chỉ tiêu 85%: đạt)",
				"Đảng số: 19 (19 chính thức, 0 dự bị).",
				"Sinh hoạt tạm thời, không tính vào đảng số và không biểu quyết (1): Đảng Viên Số 019",
				"• Sinh hoạt tạm thời (1): Đảng Viên Số 019",
				"Vắng có lý do (1): —",
				"• Xin vắng, chưa nêu lý do (1): Đảng Viên Số 018",
				"19 đảng viên chính thức − 0 tạm miễn − 0 miễn sinh hoạt vắng mặt − 1 vắng có lý do = 18 đồng chí biểu quyết",
				"từ 10 phiếu tán thành",
			},
			notWant: []string{"Chưa đạt chỉ tiêu", "Đảng Viên Số 018 ("},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ck := &clock{t: time.Date(2027, 3, 1, 8, 0, 0, 0, hcm)}
			e.now = ck.Now
			e.start()
			s := seedCell(t, e, names(20), nil)
			ctx := context.Background()
			ms, err := e.store.Members(ctx, s.cell.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if !tt.did(num(m.Name)).attached {
					continue
				}
				if _, err := e.store.UpdateMember(ctx, s.cell.ID, m.ID, func(m *cell.Member) error {
					m.Participation, m.Until = cell.Attached, "2027-12-31"
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			holdMeeting(t, e, ck, s, time.Date(2027, 3, 3, 14, 0, 0, 0, hcm), false, func(name string) how { return tt.did(num(name)) })
			sum := lastSummary(t, s.secretary)
			for _, w := range tt.want {
				if !strings.Contains(sum, w) {
					t.Errorf("summary lacks %q:\n%s", w, sum)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(sum, w) {
					t.Errorf("summary has %q:\n%s", w, sum)
				}
			}
		})
	}
}

// TestAbsenceAlertInMonths: the committee is alerted when a member has been
// absent without reason in 3 calendar months of a year; two meetings of one
// month count once. 001, 002 and 003 miss every meeting: a regular and a
// topical one in January, one in February (2 months: no alert), one in March
// (3 months: alert). 004 is excused at the last three, a run of three. The four
// alerts of the March /close come as one message to each committee member.
func TestAbsenceAlertInMonths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ck := &clock{t: time.Date(2027, 1, 1, 8, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	s := seedCell(t, e, names(8), nil)
	ctx := context.Background()
	deputy := s.members["Đảng Viên Số 007"]
	ms, err := e.store.Members(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.UserID == deputy.ID() {
			if _, err := e.store.UpdateMember(ctx, s.cell.ID, m.ID, func(m *cell.Member) error {
				m.Role = cell.RoleCommittee
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	absent := map[string]bool{"Đảng Viên Số 001": true, "Đảng Viên Số 002": true, "Đảng Viên Số 003": true}
	meetings := []struct {
		start   time.Time
		topical bool
	}{
		{time.Date(2027, 1, 5, 14, 0, 0, 0, hcm), false},
		{time.Date(2027, 1, 19, 14, 0, 0, 0, hcm), true},
		{time.Date(2027, 2, 5, 14, 0, 0, 0, hcm), false},
		{time.Date(2027, 3, 5, 14, 0, 0, 0, hcm), false},
	}
	const head = "Nhắc về vắng sinh hoạt"
	for i, m := range meetings {
		holdMeeting(t, e, ck, s, m.start, m.topical, func(name string) how {
			switch {
			case absent[name]:
				return how{}
			case name == "Đảng Viên Số 004" && i >= 1:
				return how{excused: true, reason: cell.ReasonFamily}
			}
			return how{present: true}
		})
	}
	// Each chat's messages keep their order: an alert raised by an earlier
	// /close would have come before the March summary, and so before the
	// March alert. One message holds all four alerts.
	lines := []string{
		"Đồng chí Đảng Viên Số 001 đã vắng không lý do trong 3 tháng của năm 2027 (05/01/2027, 19/01/2027, 05/02/2027, 05/03/2027)",
		"Đồng chí Đảng Viên Số 002 đã vắng không lý do trong 3 tháng",
		"Đồng chí Đảng Viên Số 003 đã vắng không lý do trong 3 tháng",
		"Đồng chí Đảng Viên Số 004 đã xin vắng 3 buổi liền (19/01/2027, 05/02/2027, 05/03/2027)",
	}
	for _, u := range []*telegramtest.User{s.secretary, deputy} {
		alert := u.WaitMessage(head)
		for _, want := range lines {
			if !strings.Contains(alert.Text, want) {
				t.Errorf("the alert to %d lacks %q:\n%s", u.ID(), want, alert.Text)
			}
		}
		if n := countContaining(u.Messages(), head); n != 1 {
			t.Errorf("%d alert messages to %d, want the one of March", n, u.ID())
		}
	}
	if n := countContaining(e.srv.Messages(s.group.ID()), head); n != 0 {
		t.Errorf("the group got %d alerts, want none", n)
	}
}
