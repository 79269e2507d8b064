package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// clock is the bot's clock in a test: time stands still until the test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var hcm = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return loc
}()

// meetingCell is a cell of 7 linked members: the secretary, four regular, one
// exempt and one away until 2099, with the bot on a test clock at 01/12/2026 08:00.
type meetingCell struct {
	seeded
	clock         *clock
	regular       []string // the four regular members but the secretary
	exempt, away  string
	secretaryName string
}

func newMeetingCell(t *testing.T, e *env) meetingCell {
	t.Helper()
	ck := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	roster := names(7)
	s := seedCell(t, e, roster, nil)
	ctx := context.Background()
	ms, err := e.store.Members(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	set := func(name string, p cell.Participation, until string) {
		for _, m := range ms {
			if m.Name == name {
				if _, err := e.store.UpdateMember(ctx, s.cell.ID, m.ID, func(m *cell.Member) error {
					m.Participation, m.Until = p, until
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("no member %s", name)
	}
	set(roster[5], cell.Exempt, "")
	set(roster[6], cell.Away, "2099-12-31")
	return meetingCell{seeded: s, clock: ck, regular: roster[1:5], exempt: roster[5], away: roster[6], secretaryName: roster[0]}
}

func (mc meetingCell) advance(t *testing.T, to time.Time) {
	t.Helper()
	mc.clock.Set(to)
}

// count counts a user's messages that contain s.
func count(u *telegramtest.User, s string) int { return countContaining(u.Messages(), s) }

// TestMeetingNoticeRemindersMoveCancel: a one-off meeting's notice reaches the
// group and every member who gets notices (exempt and away too); each reminder
// reaches exactly the expected members who have not asked to be excused, once;
// the last one tells the committee who has not answered; /move and
// /cancelmeeting reach everyone who got the notice, once.
func TestMeetingNoticeRemindersMoveCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary

	sec.Send("/reminders 1d 2h")
	sec.WaitMessage("Đã đặt nhắc lịch trước giờ họp: 1d 2h")
	sec.Send("/meeting 03/12/2026 14:00 at Nhà văn hóa khu phố")
	sec.WaitMessage("Đã tạo buổi sinh hoạt định kỳ lúc Thứ Năm, 03/12/2026 14:00")

	e.srv.WaitMessage(mc.group.ID(), "Thông báo sinh hoạt chi bộ")
	for name, u := range mc.members {
		m := u.WaitMessage("Thông báo sinh hoạt chi bộ")
		if !strings.Contains(m.Text, "Thứ Năm, 03/12/2026 14:00") || !strings.Contains(m.Text, "Nhà văn hóa khu phố") {
			t.Errorf("%s's notice: %q", name, m.Text)
		}
	}
	// One regular member asks to be excused, another says coming.
	excused, coming := mc.members[mc.regular[0]], mc.members[mc.regular[1]]
	excused.Press("❌ Xin vắng")
	coming.Press("✅ Tham dự")
	excused.WaitMessage("Xin đồng chí chọn lý do")
	e.srv.WaitUntil(func() bool {
		as, err := e.store.Answers(context.Background(), mc.cell.ID, 1)
		return err == nil && len(as) == 2
	})

	expectedReminded := []string{mc.secretaryName, mc.regular[1], mc.regular[2], mc.regular[3]}
	// The day before, at 14:00.
	mc.advance(t, time.Date(2026, 12, 2, 14, 0, 0, 0, hcm))
	for _, name := range expectedReminded {
		mc.members[name].WaitMessage("Nhắc lịch sinh hoạt chi bộ")
	}
	e.srv.WaitMessage(mc.group.ID(), "📊")
	// Two hours before.
	mc.advance(t, time.Date(2026, 12, 3, 12, 0, 0, 0, hcm))
	e.srv.WaitUntil(func() bool {
		for _, name := range expectedReminded {
			if count(mc.members[name], "Nhắc lịch sinh hoạt chi bộ") < 2 {
				return false
			}
		}
		return count(sec, "chưa trả lời về buổi sinh hoạt") == 1 &&
			countContaining(e.srv.Messages(mc.group.ID()), "📊") == 2
	})
	group := e.srv.Messages(mc.group.ID())
	if n := countContaining(group, "📊"); n != 2 {
		t.Errorf("the group got the counts %d times, want 2", n)
	}
	last := group[len(group)-1].Text
	// Expected: the secretary and four regular members (5); coming 1, excused 1, 3 no answer.
	if !strings.Contains(last, "trong 5 đồng chí phải dự, 1 tham dự, 1 xin vắng, 0 chưa chắc, 3 chưa trả lời") {
		t.Errorf("the group's counts: %q", last)
	}
	for _, m := range group {
		if strings.Contains(m.Text, mc.regular[0]) {
			t.Errorf("the group saw the excused member's name: %q", m.Text)
		}
	}
	silent := sec.WaitMessage("chưa trả lời về buổi sinh hoạt")
	for _, name := range []string{mc.secretaryName, mc.regular[2], mc.regular[3]} {
		if !strings.Contains(silent.Text, name) {
			t.Errorf("the committee's list lacks %s: %q", name, silent.Text)
		}
	}
	if strings.Contains(silent.Text, mc.regular[1]) || strings.Contains(silent.Text, mc.exempt) {
		t.Errorf("the committee's list names someone who answered or is not expected: %q", silent.Text)
	}

	// /move and /cancelmeeting, each told once to everyone who got the notice.
	sec.Send("/move 04/12/2026 14:00")
	sec.WaitMessage("Đã chuyển buổi họp sang Thứ Sáu, 04/12/2026 14:00 và báo cho 7 đồng chí")
	for _, u := range mc.members {
		u.WaitMessage("Đổi lịch sinh hoạt chi bộ")
	}
	sec.Send("/cancelmeeting")
	sec.WaitMessage("Đã hoãn buổi họp")
	for _, u := range mc.members {
		u.WaitMessage("Hoãn sinh hoạt chi bộ")
	}
	// Past the old and the new times: nothing more comes.
	mc.advance(t, time.Date(2026, 12, 4, 13, 0, 0, 0, hcm))
	sec.Send("/meetings")
	sec.WaitMessage("Chưa có buổi sinh hoạt nào sắp tới")

	for name, u := range mc.members {
		want := map[string]int{"Thông báo sinh hoạt chi bộ": 1, "Đổi lịch sinh hoạt chi bộ": 1, "Hoãn sinh hoạt chi bộ": 1, "Nhắc lịch sinh hoạt chi bộ": 0}
		for _, n := range expectedReminded {
			if n == name {
				want["Nhắc lịch sinh hoạt chi bộ"] = 2
			}
		}
		for s, n := range want {
			if got := count(u, s); got != n {
				t.Errorf("%s got %q %d times, want %d", name, s, got, n)
			}
		}
	}
}

// TestMeetingBadInput: wrong dates, times, cron lines and units, and a plain
// member's attempt, get a clear answer and change nothing.
func TestMeetingBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mc := newMeetingCell(t, e)
	sec, member := mc.secretary, mc.members[mc.regular[0]]
	tests := []struct {
		who  *telegramtest.User
		send string
		want string
	}{
		{sec, "/meeting 31/02/2027 14:00", "Ngày «31/02/2027» không đúng"},
		{sec, "/meeting 03/12/2026 25:00", "Giờ «25:00» không đúng"},
		{sec, "/meeting 01/11/2026 14:00", "đã qua"},
		{sec, "/meeting", "Xin gõ ngày và giờ họp"},
		{sec, "/schedule 0 14 32 * *", "Lịch «0 14 32 * *» không đúng"},
		{sec, "/schedule hello", "Lịch «hello» không đúng"},
		{sec, "/reminders 3x", "đơn vị d (ngày), h (giờ), m (phút), s (giây)"},
		{sec, "/reminders 1d 30s", "ngắn nhất là 1 phút"},
		{sec, "/quiet 25:00-06:00", "giờ nghỉ"},
		{sec, "/holiday 30/02/2027", "không đúng"},
		{sec, "/move 05/12/2026 14:00", "Chưa có buổi sinh hoạt nào sắp tới"},
		{sec, "/guest , ", "tên và chức vụ"},
		{member, "/meeting 03/12/2026 14:00", "chỉ dành cho chi ủy"},
		{member, "/schedule 0 14 3 * *", "chỉ dành cho chi ủy"},
	}
	for _, tt := range tests {
		tt.who.Send(tt.send)
		tt.who.WaitMessage(tt.want)
	}
	ms, err := e.store.Meetings(context.Background(), mc.cell.ID, time.Unix(0, 0), time.Now().AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 0 {
		t.Errorf("bad input made %d meetings", len(ms))
	}
	sc, err := e.store.Schedule(context.Background(), mc.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Cron != "" || len(sc.Leads) != 0 {
		t.Errorf("bad input changed the schedule: %+v", sc)
	}
}

// TestRecurringMeetingNotice: /schedule plans the next occurrence; its notice goes
// 7 days before (at once when nearer), moved off a Saturday with workday.
func TestRecurringMeetingNotice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	// The 5th of December 2026 is a Saturday: the meeting moves to Monday the 7th.
	sec.Send("/schedule 0 14 5 * * workday at Hội trường")
	sec.WaitMessage("Buổi tới: Thứ Hai, 07/12/2026 14:00")
	for _, u := range mc.members {
		m := u.WaitMessage("Thông báo sinh hoạt chi bộ")
		if !strings.Contains(m.Text, "Thứ Hai, 07/12/2026 14:00") || !strings.Contains(m.Text, "Hội trường") {
			t.Errorf("notice: %q", m.Text)
		}
	}
	// January's meeting (Tuesday 05/01/2027) is announced on 29/12/2026 at 14:00.
	mc.advance(t, time.Date(2026, 12, 29, 13, 59, 0, 0, hcm))
	sec.Send("/settings")
	sec.WaitMessage("Cài đặt của")
	if n := count(sec, "Thứ Ba, 05/01/2027 14:00"); n != 0 {
		t.Errorf("January's notice came %d times before its day", n)
	}
	mc.advance(t, time.Date(2026, 12, 29, 14, 0, 0, 0, hcm))
	e.srv.WaitUntil(func() bool { return count(sec, "Thứ Ba, 05/01/2027 14:00") >= 1 })
	if n := count(sec, "Thông báo sinh hoạt chi bộ"); n != 2 {
		t.Errorf("secretary got %d notices, want 2", n)
	}
}

// TestLateReminders: a bot started after a reminder's due time sends the latest
// missed one, marked late, and drops those of a meeting that has started.
func TestLateReminders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec := mc.secretary
	sec.Send("/reminders 1d 2h")
	sec.WaitMessage("Đã đặt nhắc lịch")
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi")
	sec.Send("/meeting 02/12/2026 09:00 topical")
	sec.WaitMessage("Đã tạo buổi")
	for _, u := range mc.members {
		e.srv.WaitUntil(func() bool { return count(u, "Thông báo sinh hoạt chi bộ") == 2 })
	}
	// Down from 08:00 on the 1st to 13:00 on the 3rd: the 14:00 meeting's 1d and
	// 2h reminders were both missed; the 09:00 meeting of the 2nd has passed.
	mc.clockStop(t, e, time.Date(2026, 12, 3, 13, 0, 0, 0, hcm))
	e.srv.WaitUntil(func() bool { return count(sec, "nhắc muộn") == 1 })
	// Let the scheduler settle, then check nothing else came.
	sec.Send("/meetings")
	sec.WaitMessage("Các buổi sinh hoạt sắp tới")
	for name, u := range mc.members {
		if name == mc.exempt || name == mc.away {
			if n := count(u, "Nhắc lịch"); n != 0 {
				t.Errorf("%s (not expected) got %d reminders", name, n)
			}
			continue
		}
		if n := count(u, "Nhắc lịch"); n != 1 {
			t.Errorf("%s got %d reminders, want the one latest, late", name, n)
		}
		if n := count(u, "Sinh hoạt chuyên đề"); n != 1 { // the topical meeting's notice only
			t.Errorf("%s got %d messages of the topical meeting, want its notice only", name, n)
		}
	}
}

// clockStop stops the bot, moves the clock while it is down, and starts it again
// on the same Redis.
func (mc meetingCell) clockStop(t *testing.T, e *env, to time.Time) {
	t.Helper()
	b := e.running
	b.stop()
	mc.clock.Set(to)
	e.start()
}

// TestTwoSchedulersSendOnce: a second scheduler and sender on the same Redis, as a
// second bot process would run them: each notice and reminder goes out once.
func TestTwoSchedulersSendOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := storage.New(e.rdb, e.prefix)
	tg, err := telegram.New(ctx, telegramtest.Token, e.srv.Endpoint(), &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := delivery.NewSender(delivery.SenderParams{Store: store, Caller: tg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(scheduler.Params{Store: store, Delivery: sender, Now: mc.clock.Now, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = sender.Run(ctx) })
	wg.Go(func() { _ = sched.Run(ctx) })
	defer wg.Wait()
	defer cancel()

	sec := mc.secretary
	sec.Send("/reminders 1d 2h 30m")
	sec.WaitMessage("Đã đặt nhắc lịch")
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi")
	for _, at := range []time.Time{
		time.Date(2026, 12, 2, 14, 0, 0, 0, hcm),
		time.Date(2026, 12, 3, 12, 0, 0, 0, hcm),
		time.Date(2026, 12, 3, 13, 30, 0, 0, hcm),
	} {
		mc.advance(t, at)
		e.srv.WaitUntil(func() bool { return count(sec, "Nhắc lịch sinh hoạt chi bộ") == countUntil(at) })
	}
	e.srv.WaitUntil(func() bool { return countContaining(e.srv.Messages(mc.group.ID()), "📊") >= 3 })
	sec.Send("/meetings")
	sec.WaitMessage("Các buổi sinh hoạt sắp tới")
	for name, u := range mc.members {
		want := 3
		if name == mc.exempt || name == mc.away {
			want = 0
		}
		if n := count(u, "Nhắc lịch sinh hoạt chi bộ"); n != want {
			t.Errorf("%s got %d reminders, want %d", name, n, want)
		}
		if n := count(u, "Thông báo sinh hoạt chi bộ"); n != 1 {
			t.Errorf("%s got %d notices, want 1", name, n)
		}
	}
	if n := countContaining(e.srv.Messages(mc.group.ID()), "📊"); n != 3 {
		t.Errorf("the group got the counts %d times, want 3", n)
	}
}

// countUntil is how many reminders the secretary has by then in
// TestTwoSchedulersSendOnce.
func countUntil(at time.Time) int {
	switch {
	case at.Day() == 2:
		return 1
	case at.Hour() == 12:
		return 2
	}
	return 3
}

// TestRemindersSurviveSIGKILL: the bot process is killed right after a meeting's
// reminders are scheduled, and started again before they are due: each reminder
// reaches each expected member once. Real time, lead times of seconds.
func TestRemindersSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(60*time.Second))
	e.useOwnRedis()
	p := e.startProcess()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot output:\n%s", p.output())
		}
	})
	s := seedCell(t, e, names(5), nil)
	s.secretary.Send("/reminders 1m")
	s.secretary.WaitMessage("Đã đặt nhắc lịch")
	// Leads of seconds, shorter than /reminders takes, so that the test does
	// not wait minutes; then what /meeting does, with a start to the second:
	// store the meeting, then schedule its notice and reminders.
	ctx := context.Background()
	if err := e.store.SetLeads(ctx, s.cell.ID, []time.Duration{12 * time.Second, 6 * time.Second}); err != nil {
		t.Fatal(err)
	}
	c, err := e.store.Cell(ctx, s.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m, _, err := e.store.CreateMeeting(ctx, "test", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: now.Add(20 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	leads := []time.Duration{12 * time.Second, 6 * time.Second}
	if err := e.store.ScheduleDue(ctx, scheduler.Items(c, cell.QuietHours{}, leads, m, now)...); err != nil {
		t.Fatal(err)
	}
	// Kill once the notices are sent and marked (a message in flight at a kill
	// may go twice; that is delivery's window, not the scheduler's).
	e.srv.WaitUntil(func() bool {
		for _, u := range s.members {
			if count(u, "Thông báo sinh hoạt chi bộ") == 0 {
				return false
			}
		}
		d, err := e.store.QueueDepth(ctx)
		return err == nil && d.Ready[0]+d.Ready[1]+d.Leased == 0
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil
	p = e.startProcess()
	e.srv.WaitUntil(func() bool {
		for _, u := range s.members {
			if count(u, "Nhắc lịch sinh hoạt chi bộ") < 2 {
				return false
			}
		}
		return true
	})
	// Past the start, with the scheduler idle: nothing more.
	e.srv.WaitUntil(func() bool { return time.Now().After(m.Start.Add(2 * time.Second)) })
	s.secretary.Send("/settings")
	s.secretary.WaitMessage("Cài đặt của")
	for name, u := range s.members {
		if n := count(u, "Nhắc lịch sinh hoạt chi bộ"); n != 2 {
			t.Errorf("%s got %d reminders, want 2", name, n)
		}
		if n := count(u, "Thông báo sinh hoạt chi bộ"); n != 1 {
			t.Errorf("%s got %d notices, want 1", name, n)
		}
	}
}

// TestCommitteeAnswersForMemberWithoutTelegram: a member without Telegram is
// answered for from their card in /members, and counts as excused with the
// reason given.
func TestCommitteeAnswersForMemberWithoutTelegram(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ck := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, hcm)}
	e.now = ck.Now
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	sec := cs.secretary
	sec.Send("/meeting 03/12/2026 14:00")
	sec.WaitMessage("Đã tạo buổi")
	sec.Send("/members")
	list := sec.WaitMessage("Trang 1/1")
	var label string
	for _, row := range list.Buttons {
		if strings.Contains(row[0].Text, "Lê Thị Hoa") {
			label = row[0].Text
		}
	}
	if label == "" {
		t.Fatalf("no button for Lê Thị Hoa in %+v", list.Buttons)
	}
	sec.Press(label)
	sec.WaitMessage("Chi ủy trả lời giúp")
	sec.Press("❌ 🤒 Ốm đau")
	card := sec.WaitMessage("Buổi họp Thứ Năm, 03/12/2026 14:00: ❌ Xin vắng (🤒 Ốm đau)")
	if len(card.Buttons) == 0 {
		t.Error("the card lost its buttons")
	}
	ms, err := e.store.Members(context.Background(), cs.cell.ID)
	if err != nil {
		t.Fatal(err)
	}
	answers, err := e.store.Answers(context.Background(), cs.cell.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	var hoa cell.Member
	for _, m := range ms {
		if m.Name == "Lê Thị Hoa" {
			hoa = m
		}
	}
	if hoa.ID == 0 {
		t.Fatal("Lê Thị Hoa is not on the roster")
	}
	if a := answers[hoa.ID]; a.Kind != cell.Excused || a.Reason != cell.ReasonIllness {
		t.Errorf("stored answer %+v, want excused for illness", a)
	}

	// She came after all: at the meeting, the card checks her in.
	ck.Set(time.Date(2026, 12, 3, 14, 5, 0, 0, hcm))
	before := len(sec.Messages())
	sec.Send("/members")
	e.srv.WaitUntil(func() bool {
		msgs := sec.Messages()
		return len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, "Trang 1/1")
	})
	sec.Press(label)
	sec.WaitMessage("Điểm danh buổi Thứ Năm, 03/12/2026 14:00: chưa điểm danh")
	sec.Press("✅ Có mặt")
	sec.WaitMessage("Điểm danh buổi Thứ Năm, 03/12/2026 14:00: có mặt")
	pres, err := e.store.Presences(context.Background(), cs.cell.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := pres[hoa.ID]; !p.Present() || p.Mark != cell.PresentByCard {
		t.Errorf("presence %+v, want present by the committee, from the card", p)
	}
}

// TestScheduleNextMeetingEarly: after /schedule the next regular meeting is
// there at once (/meetings, /rsvp) while its notice waits for its day; workday
// and /holiday move that one meeting (before its notice silently, after it with
// one "moved" message each), never making a second; /reminders applies to it
// too; /guest after the start records the guest on the meeting under way.
func TestScheduleNextMeetingEarly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.WithWaitTimeout(30*time.Second))
	mc := newMeetingCell(t, e)
	sec, member := mc.secretary, mc.members[mc.regular[0]]
	ctx := context.Background()
	openMeetings := func() []cell.Meeting {
		t.Helper()
		now := mc.clock.Now()
		ms, err := e.store.Meetings(ctx, mc.cell.ID, now.Add(-24*time.Hour), now.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var open []cell.Meeting
		for _, m := range ms {
			if m.Open() {
				open = append(open, m)
			}
		}
		return open
	}

	sec.Send("/schedule 0 14 20 * * at Hội trường")
	sec.WaitMessage("Buổi tới: Chủ Nhật, 20/12/2026 14:00")
	member.Send("/meetings")
	member.WaitMessage("Chủ Nhật, 20/12/2026 14:00")
	if n := count(member, "Thông báo sinh hoạt chi bộ"); n != 0 {
		t.Errorf("the notice came %d times, 19 days early", n)
	}

	// Workday: Sunday the 20th moves to Monday the 21st; a holiday on the 21st
	// moves it again, to Tuesday the 22nd. Still one meeting.
	sec.Send("/schedule 0 14 20 * * workday at Nhà văn hóa khu 3")
	sec.WaitMessage("Buổi tới: Thứ Hai, 21/12/2026 14:00")
	sec.Send("/holiday 21/12/2026")
	sec.WaitMessage("Đã thêm ngày nghỉ 21/12/2026")
	member.Send("/rsvp")
	member.WaitMessage("Thứ Ba, 22/12/2026 14:00")
	member.Press("✅ Tham dự")
	e.srv.WaitUntil(func() bool {
		ms := openMeetings()
		if len(ms) != 1 {
			return false
		}
		as, err := e.store.Answers(ctx, mc.cell.ID, ms[0].ID)
		if err != nil || len(as) != 1 {
			return false
		}
		for _, a := range as {
			return a.Kind == cell.Coming
		}
		return false
	})
	if ms := openMeetings(); len(ms) != 1 || !ms[0].Start.Equal(time.Date(2026, 12, 22, 14, 0, 0, 0, hcm)) {
		t.Fatalf("open meetings = %+v, want one on 22/12 14:00", ms)
	}

	// The notice, seven days before: once each, with the 22nd.
	mc.advance(t, time.Date(2026, 12, 15, 14, 0, 0, 0, hcm))
	for name, u := range mc.members {
		m := u.WaitMessage("Thông báo sinh hoạt chi bộ")
		if !strings.Contains(m.Text, "Thứ Ba, 22/12/2026 14:00") || !strings.Contains(m.Text, "Nhà văn hóa khu 3") {
			t.Errorf("%s's notice: %q", name, m.Text)
		}
	}
	// A holiday on an announced meeting moves it, and each member is told once.
	sec.Send("/holiday 22/12/2026")
	sec.WaitMessage("Đã thêm ngày nghỉ 22/12/2026")
	for _, u := range mc.members {
		u.WaitMessage("Đổi lịch sinh hoạt chi bộ")
	}
	// Reminders set now apply to this meeting: only 30 minutes before.
	sec.Send("/reminders 30m")
	sec.WaitMessage("Đã đặt nhắc lịch trước giờ họp: 30m")
	mc.advance(t, time.Date(2026, 12, 20, 14, 0, 0, 0, hcm)) // once the "3d" reminder's time
	member.Send("/meetings")
	member.WaitMessage("Thứ Tư, 23/12/2026 14:00")
	mc.advance(t, time.Date(2026, 12, 23, 13, 30, 0, 0, hcm))
	member.WaitMessage("Nhắc lịch sinh hoạt chi bộ")

	mc.advance(t, time.Date(2026, 12, 23, 14, 10, 0, 0, hcm))
	sec.Send("/guest Lê Văn Khách, Bí thư Đoàn phường")
	sec.WaitMessage("Đã ghi khách mời Lê Văn Khách vào buổi họp Thứ Tư, 23/12/2026 14:00")

	// January's meeting is the next; cancelled, February's (the 20th is a
	// Saturday: Monday the 22nd) is the next at once.
	sec.Send("/meetings")
	sec.WaitMessage("Thứ Tư, 20/01/2027 14:00")
	sec.Send("/cancelmeeting")
	sec.WaitMessage("Đã hoãn buổi họp")
	sec.Send("/meetings")
	sec.WaitMessage("Thứ Hai, 22/02/2027 14:00")

	for name, u := range mc.members {
		want := map[string]int{"Thông báo sinh hoạt chi bộ": 1, "Đổi lịch sinh hoạt chi bộ": 1}
		if u == member {
			want["Thông báo sinh hoạt chi bộ"]++ // the /rsvp answer shows the notice
		}
		for s, n := range want {
			if got := count(u, s); got != n {
				t.Errorf("%s got %q %d times, want %d", name, s, got, n)
			}
		}
		if got := count(u, "nhắc muộn"); got != 0 {
			t.Errorf("%s got %d late reminders", name, got)
		}
	}
	if got := count(member, "Nhắc lịch sinh hoạt chi bộ"); got != 1 {
		t.Errorf("the member got %d reminders, want 1 (30 minutes before)", got)
	}
	ms, err := e.store.Meetings(ctx, mc.cell.ID, time.Date(2026, 12, 1, 0, 0, 0, 0, hcm), time.Date(2027, 1, 1, 0, 0, 0, 0, hcm))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || len(ms[0].Guests) != 1 || ms[0].Guests[0].Name != "Lê Văn Khách" {
		t.Errorf("December's meetings = %+v, want one with the guest", ms)
	}
}
