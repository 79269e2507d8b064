package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
)

// TestScheduleAndPlaceLimits plays a committee member who types what the bot
// must not take: a schedule that meets more than once a week (every meeting
// notifies every member), a place over 200 characters (Telegram would refuse
// every member's notice) or with nothing readable, a guest's title over 200.
// Each gets one answer saying what to type; the stored schedule, meetings and
// guests stay as they were and no member or group receives anything. Then an
// honest place of exactly 200 Vietnamese characters (typed with its marks
// apart, some 500 bytes), a weekly schedule and a guest still work.
func TestScheduleAndPlaceLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec, ctx := mc.secretary, context.Background()

	sec.Send("/schedule 0 14 3 * * at Nhà văn hóa khu phố 3")
	sec.WaitMessage("Buổi tới: Thứ Năm, 03/12/2026 14:00")
	for _, u := range mc.members {
		u.WaitMessage("Thông báo sinh hoạt chi bộ")
	}
	e.srv.WaitMessage(mc.group.ID(), "Thông báo sinh hoạt chi bộ")
	e.srv.WaitIdle()

	type state struct {
		Schedule cell.Schedule
		Meetings []cell.Meeting
	}
	stored := func() state {
		t.Helper()
		sc, err := e.store.Schedule(ctx, mc.cell.ID)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := e.store.Meetings(ctx, mc.cell.ID, time.Unix(0, 0), time.Now().AddDate(5, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return state{sc, ms}
	}
	received := func() map[string]int {
		n := map[string]int{"group": len(e.srv.Messages(mc.group.ID()))}
		for name, u := range mc.members {
			n[name] = len(u.Messages())
		}
		return n
	}
	before, got := stored(), received()
	if len(before.Meetings) == 0 || before.Meetings[0].Place != "Nhà văn hóa khu phố 3" {
		t.Fatalf("the honest schedule planned %+v", before.Meetings)
	}

	hall := "Hội trường Đảng ủy phường Mỹ Phước, " // 36 characters
	letters := func(n int) string { return strings.Repeat("ệ", n) }
	tests := []struct {
		name string
		send string
		want string
	}{
		{"every minute", "/schedule * * * * *", "Lịch «* * * * *» họp nhiều hơn một lần một tuần"},
		{"daily", "/schedule 0 14 * * * at Hội trường", "Lịch «0 14 * * *» họp nhiều hơn một lần một tuần"},
		{"the 1st and the 3rd", "/schedule 0 14 1,3 * *", "Lịch «0 14 1,3 * *» họp nhiều hơn một lần một tuần"},
		{"days 1-7 or thursdays", "/schedule 0 14 1-7 * 4 workday", "không phải thứ Năm đầu tháng"},
		{"a pasted paragraph for a place", "/schedule 0 14 3 * * at " + strings.Repeat(hall, 6), "Nơi họp dài quá (215 ký tự). Xin ghi gọn, không quá 200 ký tự"},
		{"201 letters typed apart", "/meeting 10/12/2026 14:00 at " + norm.NFD.String(letters(201)), "Nơi họp dài quá (201 ký tự)"},
		{"201 letters, topical", "/meeting 10/12/2026 14:00 topical at " + letters(201), "Nơi họp dài quá (201 ký tự)"},
		{"at with nothing", "/meeting 10/12/2026 14:00 at", "Sau chữ «at» (hoặc «tại») chưa có nơi họp"},
		{"zero-width spaces", "/schedule 0 14 3 * * at \u200b\u200b", "Sau chữ «at» (hoặc «tại») chưa có nơi họp"},
		{"hangul fillers", "/meeting 10/12/2026 14:00 tại \u3164\u3164", "Sau chữ «at» (hoặc «tại») chưa có nơi họp"},
		{"a guest's long title", "/guest Trần Văn Bình, " + strings.Repeat(hall, 6), "Chức vụ của khách mời dài quá (215 ký tự)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(sec.Messages())
			sec.Send(tt.send)
			e.srv.WaitUntil(func() bool { return len(sec.Messages()) > n })
			if last := sec.Messages()[n]; !strings.Contains(last.Text, tt.want) {
				t.Errorf("answer to %q: %q, want %q", tt.name, last.Text, tt.want)
			}
		})
	}
	// The same in English.
	sec.Send("/lang en")
	sec.WaitMessage("Language set to English")
	sec.Send("/schedule 0 14 * * *")
	sec.WaitMessage(`The schedule "0 14 * * *" meets more than once a week`)
	sec.Send("/meeting 10/12/2026 14:00 at " + letters(201))
	sec.WaitMessage("The place is too long (201 characters). Please keep it to 200")
	sec.Send("/lang vi")
	sec.WaitMessage("Đã chuyển sang tiếng Việt")
	e.srv.WaitIdle()

	if diff := cmp.Diff(before, stored()); diff != "" {
		t.Errorf("refused input changed what is stored (-before +after):\n%s", diff)
	}
	after := received()
	// The secretary got one answer to each message, and nothing else.
	want := got
	want[mc.secretaryName] += len(tests) + 4
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("messages received (-want +got):\n%s", diff)
	}

	// An honest place of exactly 200 characters, typed with the marks apart,
	// for a topical meeting named as Vietnamese write it.
	place := letters(200)
	sec.Send("/meeting 10/12/2026 14:00 chuyên đề tại " + norm.NFD.String(place))
	sec.WaitMessage("Đã tạo buổi sinh hoạt chuyên đề lúc Thứ Năm, 10/12/2026 14:00")
	for name, u := range mc.members {
		m := u.WaitMessage("📍 " + place)
		if !strings.Contains(m.Text, "Thông báo sinh hoạt chi bộ") || !strings.Contains(m.Text, "Thứ Năm, 10/12/2026 14:00") {
			t.Errorf("%s's notice: %q", name, m.Text)
		}
	}
	e.srv.WaitMessage(mc.group.ID(), "📍 "+place)
	e.srv.WaitIdle()
	for name, n := range received() {
		if w := after[name] + 1; name != mc.secretaryName && n != w {
			t.Errorf("%s received %d messages, want %d (the new notice only)", name, n, w)
		}
	}
	ms := stored().Meetings
	if len(ms) != len(before.Meetings)+1 || ms[1].Place != place || ms[1].Kind != cell.KindTopical {
		t.Errorf("meetings after the honest one: %+v", ms)
	}

	// A weekly schedule is taken, and so is a guest with a title.
	sec.Send("/schedule 0 19 * * 1 at Hội trường UBND phường")
	sec.WaitMessage("Buổi tới: Thứ Hai, 07/12/2026 19:00")
	if sc := stored().Schedule; sc.Cron != "0 19 * * 1" || sc.Place != "Hội trường UBND phường" {
		t.Errorf("the weekly schedule: %+v", sc)
	}
	sec.Send("/guest Trần Văn Bình, Bí thư Đảng ủy phường")
	sec.WaitMessage("Đã ghi khách mời Trần Văn Bình")

	for _, method := range []string{"sendMessage", "editMessageText"} {
		for _, r := range e.srv.Requests(method) {
			if r.Code == 400 {
				t.Errorf("%s was refused: %s", method, r.Description)
			}
		}
	}
}
