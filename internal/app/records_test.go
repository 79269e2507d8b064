package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// TestCloseOverPreviousRecords: a meeting whose answers and presence the
// previous version stored (the JSON of cell.Answer and cell.Presence, times
// with nanoseconds) closes as one whose records are stored now: the summary
// counts and names the same members, the typed reason too.
func TestCloseOverPreviousRecords(t *testing.T) {
	t.Parallel()
	// What each member said and how they were marked; the secretary is 0.
	type did struct {
		answer cell.Answer
		mark   cell.PresenceMark
	}
	excused := func(r cell.ReasonCategory, text string) cell.Answer {
		return cell.Answer{Kind: cell.Excused, Reason: r, ReasonText: text}
	}
	dids := map[int]did{
		0: {mark: cell.PresentByRollCall},
		1: {answer: cell.Answer{Kind: cell.Coming}, mark: cell.PresentByCode},
		2: {answer: cell.Answer{Kind: cell.Coming}, mark: cell.PresentByQR},
		3: {answer: cell.Answer{Kind: cell.Unsure}, mark: cell.PresentByRollCall},
		4: {mark: cell.PresentByCard},
		5: {answer: excused(cell.ReasonIllness, "")},
		6: {answer: excused(cell.ReasonOther, "Đi khám bệnh định kỳ ở tỉnh")},
		7: {answer: cell.Answer{Kind: cell.Coming}, mark: cell.MarkedAbsent},
		8: {answer: excused("", ""), mark: cell.PresentByCode},
		9: {},
	}
	// 0–4 and 8 came: 6 of 10; 5 and 6 excused; 7 (said coming) and 9 absent
	// without reason. Vote base: 10 official − 2 excused = 8, threshold 5.
	want := []string{
		"Có mặt: 6/10 đồng chí phải dự, tỷ lệ 60,0%",
		"• Chính thức (6): Nguyễn Thị Lan, Đảng Viên Số 001, Đảng Viên Số 002, Đảng Viên Số 003, Đảng Viên Số 004, Đảng Viên Số 008",
		"Cách ghi nhận có mặt: quét QR 1 (Đảng Viên Số 002); nhập mã 2 (Đảng Viên Số 001, Đảng Viên Số 008); chi ủy điểm danh 2 (Nguyễn Thị Lan, Đảng Viên Số 003); chi ủy ghi trên thẻ 1 (Đảng Viên Số 004)",
		"Vắng có lý do (2): Đảng Viên Số 005 (🤒 Ốm đau), Đảng Viên Số 006 (✏️ Lý do khác: Đi khám bệnh định kỳ ở tỉnh)",
		"Vắng không lý do (2): Đảng Viên Số 007, Đảng Viên Số 009",
		"Báo tham dự nhưng không đến (1): Đảng Viên Số 007",
		"10 đảng viên chính thức − 0 tạm miễn − 0 miễn sinh hoạt vắng mặt − 2 vắng có lý do = 8 đồng chí biểu quyết",
		"từ 5 phiếu tán thành",
	}
	for _, legacy := range []bool{false, true} {
		name := "as stored now"
		if legacy {
			name = "as the previous version stored them"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t)
			ck := &clock{t: time.Date(2027, 3, 1, 8, 0, 0, 0, hcm)}
			e.now = ck.Now
			e.start()
			s := seedCell(t, e, names(10), nil)
			sec := s.secretary
			start := time.Date(2027, 3, 3, 14, 0, 0, 0, hcm)
			ck.Set(start.Add(-5 * time.Hour))
			sec.Send("/meeting " + start.Format("02/01/2006 15:04"))
			e.srv.WaitUntil(func() bool { return countContaining(sec.Messages(), "Đã tạo buổi") > 0 })
			ms, err := e.store.Meetings(ctx, s.cell.ID, start.Add(-time.Minute), start.Add(time.Minute))
			if err != nil || len(ms) != 1 {
				t.Fatalf("meetings at %s = %v, %v; want one", start, ms, err)
			}
			m := ms[0]
			members, err := e.store.Members(ctx, s.cell.ID)
			if err != nil {
				t.Fatal(err)
			}
			answeredAt := start.Add(-4*time.Hour + 123456789*time.Nanosecond)
			markedAt := start.Add(time.Minute + 987654321*time.Nanosecond)
			k := e.store.Keys()
			byNum := map[int]int64{}
			for _, mem := range members {
				n := 0 // the secretary
				fmt.Sscanf(mem.Name, "Đảng Viên Số %d", &n)
				byNum[n] = mem.ID
				d := dids[n]
				if d.answer.Kind != "" {
					a := d.answer
					a.MemberID, a.At = mem.ID, answeredAt
					if legacy {
						data, _ := json.Marshal(a)
						err = e.rdb.HSet(ctx, k.Answers(s.cell.ID, m.ID), strconv.FormatInt(mem.ID, 10), data).Err()
					} else {
						err = e.store.SetAnswer(ctx, s.cell.ID, m.ID, mem.ID, a)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if d.mark != "" {
					p := cell.Presence{MemberID: mem.ID, Mark: d.mark, At: markedAt}
					if legacy {
						data, _ := json.Marshal(p)
						err = e.rdb.HSet(ctx, k.Presence(s.cell.ID, m.ID), strconv.FormatInt(mem.ID, 10), data).Err()
					} else {
						err = e.store.SetPresence(ctx, s.cell.ID, m.ID, p)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			raw, err := e.rdb.HGet(ctx, k.Answers(s.cell.ID, m.ID), strconv.FormatInt(byNum[6], 10)).Result()
			if err != nil || strings.HasPrefix(raw, "{") != legacy {
				t.Fatalf("member 006's answer stored as %q, %v", raw, err)
			}
			ck.Set(start.Add(2 * time.Hour))
			sec.Send("/close")
			e.srv.WaitUntil(func() bool { return countContaining(sec.Messages(), "đồng chí biểu quyết") > 0 })
			sum := lastSummary(t, sec)
			for _, w := range want {
				if !strings.Contains(sum, w) {
					t.Errorf("summary lacks %q:\n%s", w, sum)
				}
			}
			outcomes, err := e.store.Outcomes(ctx, s.cell.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if outcomes[byNum[7]] != cell.OutcomeAbsent || outcomes[byNum[8]] != cell.OutcomePresent || outcomes[byNum[6]] != cell.OutcomeExcused {
				t.Errorf("outcomes %v", outcomes)
			}
		})
	}
}
