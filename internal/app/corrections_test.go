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

// TestCorrectionAfterClose: a member marked absent by mistake is corrected to
// present from the summary's button: the rate is worked out again in the
// corrected summary the committee gets, the group's counts message is edited
// in place, the change is kept with who made it, and the export follows.
func TestCorrectionAfterClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	missed := mc.regular[0]
	start := time.Date(2026, 12, 2, 14, 0, 0, 0, hcm)
	holdMeeting(t, e, mc.clock, mc.seeded, start, false, func(name string) how { return how{present: name != missed} })
	group := e.srv.WaitMessage(mc.group.ID(), "Có mặt 4/5 đồng chí phải dự (80,0%)")
	summary := sec.WaitMessage("Có mặt: 4/5")

	sec.PressOn(summary, "✏️ Sửa điểm danh")
	sec.WaitMessage("xin chọn đồng chí cần sửa")
	sec.Press("🚫 " + missed)
	sec.WaitMessage("Đang ghi: <b>vắng không lý do</b>")
	sec.Press("✅ Có mặt")
	sec.WaitMessage("Đã sửa điểm danh của đồng chí <b>" + missed + "</b>: vắng không lý do → <b>có mặt</b>")
	corrected := sec.WaitMessage("(đã sửa)")
	if !strings.Contains(corrected.Text, "Có mặt: 5/5") || !strings.Contains(corrected.Text, "100,0%") {
		t.Errorf("the corrected summary does not count the correction: %q", corrected.Text)
	}
	e.srv.WaitUntil(func() bool {
		for _, m := range e.srv.Messages(mc.group.ID()) {
			if m.MessageID == group.MessageID {
				return strings.Contains(m.Text, "Có mặt 5/5 đồng chí phải dự (100,0%)") && strings.Contains(m.Text, "(đã sửa)")
			}
		}
		return false
	})
	if n := countContaining(e.srv.Messages(mc.group.ID()), "Kết thúc buổi sinh hoạt"); n != 1 {
		t.Errorf("the group has %d counts messages, want the one edited", n)
	}

	ctx := context.Background()
	ms, err := e.store.Meetings(ctx, mc.cell.ID, start.Add(-time.Minute), start.Add(time.Minute))
	if err != nil || len(ms) != 1 {
		t.Fatalf("meetings = %v, %v", ms, err)
	}
	mem := memberNamed(t, e, mc.cell.ID, missed)
	secRec := memberNamed(t, e, mc.cell.ID, mc.secretaryName)
	log, err := e.store.CorrectionLog(ctx, mc.cell.ID, ms[0].ID)
	if err != nil || len(log) != 1 {
		t.Fatalf("correction log = %+v, %v", log, err)
	}
	if l := log[0]; l.MemberID != mem.ID || l.From != cell.OutcomeAbsent || l.To != cell.OutcomePresent || l.By != secRec.ID || l.At.IsZero() {
		t.Errorf("log entry = %+v", l)
	}

	sec.Send("/export Q4/2026")
	data := exportCSV(t, e, sec)
	for _, line := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(line, []byte(missed)) && !bytes.Contains(line, []byte("có mặt")) {
			t.Errorf("the export keeps the outcome before the correction: %s", line)
		}
	}
	if !bytes.Contains(data, []byte(missed)) {
		t.Errorf("the export has no row of %s", missed)
	}
}

// TestCorrectionRefused: a correction of a meeting that is not closed gets a
// sentence and changes nothing; a forged correction button from a member who
// is not on the committee, or naming another cell, is refused.
func TestCorrectionRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	e.answerWithin = 5 * time.Second // the refusals are read in the answers
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	ctx := context.Background()
	start := time.Date(2026, 12, 2, 14, 0, 0, 0, hcm)
	holdMeeting(t, e, mc.clock, mc.seeded, start, false, func(string) how { return how{present: true} })
	sec.Send("/meeting 10/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi sinh hoạt định kỳ lúc Thứ Năm, 10/12/2026 14:00")
	closed, err := e.store.Meetings(ctx, mc.cell.ID, start.Add(-time.Minute), start.Add(time.Minute))
	if err != nil || len(closed) != 1 {
		t.Fatalf("meetings = %v, %v", closed, err)
	}
	next, err := e.store.Meetings(ctx, mc.cell.ID, start.AddDate(0, 0, 8).Add(-time.Minute), start.AddDate(0, 0, 8).Add(time.Minute))
	if err != nil || len(next) != 1 {
		t.Fatalf("meetings = %v, %v", next, err)
	}
	// The next meeting gets an outcome recorded, as if by a /close cut short,
	// so that only its state stops the correction.
	target := memberNamed(t, e, mc.cell.ID, mc.regular[1])
	if err := e.store.SetOutcomes(ctx, mc.cell.ID, next[0].ID, map[int64]cell.Outcome{target.ID: cell.OutcomeAbsent}); err != nil {
		t.Fatal(err)
	}
	c := b36(mc.cell.ID)
	other := b36(mc.cell.ID + 1000)
	member := mc.members[mc.regular[2]]
	// The member presses a forged button on the notice of the next meeting.
	member.WaitMessage("Thứ Năm, 10/12/2026 14:00")
	tests := []struct {
		name    string
		by      *telegramtest.User
		data    string
		want    string
		meeting int64
	}{
		{"not closed", sec, "1:cx:" + c + ":" + b36(next[0].ID) + ":" + b36(target.ID) + ":1", "chưa kết thúc nên chưa sửa điểm danh được", next[0].ID},
		{"not committee", member, "1:cx:" + c + ":" + b36(closed[0].ID) + ":" + b36(target.ID) + ":6", "chỉ dành cho chi ủy", closed[0].ID},
		{"another cell", sec, "1:cx:" + other + ":" + b36(closed[0].ID) + ":" + b36(target.ID) + ":6", "Nút này đã cũ", closed[0].ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := e.store.Outcomes(ctx, mc.cell.ID, tt.meeting)
			if err != nil {
				t.Fatal(err)
			}
			tt.by.PressData(tt.data)
			e.srv.WaitUntil(func() bool {
				for _, r := range e.srv.Requests("answerCallbackQuery") {
					if strings.Contains(r.Params["text"], tt.want) {
						return true
					}
				}
				return false
			})
			after, err := e.store.Outcomes(ctx, mc.cell.ID, tt.meeting)
			if err != nil {
				t.Fatal(err)
			}
			if after[target.ID] != before[target.ID] {
				t.Errorf("outcome changed: %s → %s", before[target.ID], after[target.ID])
			}
			log, err := e.store.CorrectionLog(ctx, mc.cell.ID, tt.meeting)
			if err != nil || len(log) != 0 {
				t.Errorf("correction log = %+v, %v", log, err)
			}
		})
	}
}
