package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// A cell of 74: everyone who opened the bot gets the broadcast exactly once,
// within Telegram's limits (the server saw no 429); the two who cannot be reached
// are named in the report and passed to OnUnreachable once each; the progress
// message is edited, then finally edited and the report sent exactly once.
func TestDeliveryBroadcastCell(t *testing.T) {
	env := newTestEnv(t) // limits on
	var unreachable unreachableLog
	s := env.sender(t, delivery.SenderParams{Workers: 4, OnUnreachable: unreachable.hook})

	secretary := env.srv.User("Bí thư")
	secretary.Start("")
	us := members(env.srv, 74)
	us[10].Block()                       // blocked the bot
	us[20] = env.srv.User("Đồng chí 21") // never opened it
	const text = "Thông báo: sinh hoạt chi bộ lúc 14:00 ngày 03/04."
	job := storage.QueueJob{ID: "j74", CellID: 1, Purpose: "broadcast", Lang: texts.VI, ReportChatID: secretary.ID()}
	job.ProgressMessageID = startProgress(t, s, secretary.ID(), len(us))
	msgs := broadcast(job.ID, us, textParts(text))
	for range 2 { // an update handled twice must not double the broadcast
		if _, err := s.StartJob(context.Background(), job, msgs); err != nil {
			t.Fatal(err)
		}
	}
	env.waitJobDone(t, secretary.ID())

	for i, u := range us {
		got := u.Messages()
		if i == 10 || i == 20 {
			if len(got) != 0 {
				t.Errorf("unreachable user %d got %d messages", i+1, len(got))
			}
			continue
		}
		if len(got) != 1 || got[0].Text != text {
			t.Errorf("user %d got %d messages, want the text once: %+v", i+1, len(got), got)
		}
	}
	if n := env.srv.Stats().TooManyRequests; n != 0 {
		t.Errorf("server answered %d × 429", n)
	}
	if diff := cmp.Diff(map[int64]int{11: 1, 21: 1}, unreachable.snapshot()); diff != "" {
		t.Errorf("OnUnreachable calls by member (-want +got):\n%s", diff)
	}

	// The secretary's chat: one message, the progress message, which became the
	// report.
	done := texts.T(texts.VI, texts.DeliveryDone, 72, 74)
	got := env.srv.Messages(secretary.ID())
	if len(got) != 1 {
		t.Fatalf("secretary got %d messages, want the progress message only: %+v", len(got), got)
	}
	if !strings.HasPrefix(got[0].Text, done) || got[0].Edits < 2 {
		t.Errorf("progress message %q edited %d times; want the report after progress edits", got[0].Text, got[0].Edits)
	}
	report := got[0].Text
	for _, want := range []string{done, "Chưa nhắn được 2 đồng chí", "Đồng chí 11", "Đồng chí 21"} {
		if !strings.Contains(report, want) {
			t.Errorf("report %q lacks %q", report, want)
		}
	}
	var progress, final int
	for _, r := range env.srv.Requests("editMessageText") {
		switch {
		case strings.HasPrefix(r.Params["text"], "⏳ Đã gửi "):
			progress++
		case strings.HasPrefix(r.Params["text"], done):
			final++
		}
	}
	if progress == 0 || final != 1 {
		t.Errorf("%d progress edits and %d final edits; want some and one", progress, final)
	}
	// The progress edits and the final edit go through the queue too.
	if n := counter(t, env.reg, "cellbot_delivery_sends_total", "result", "sent"); n != float64(72+progress+final) {
		t.Errorf("sends_total{sent} = %v, want %d (the members, %d progress edits, the final edit)", n, 72+progress+final, progress)
	}
	if n := counter(t, env.reg, "cellbot_delivery_sends_total", "result", "unreachable"); n != 2 {
		t.Errorf("sends_total{unreachable} = %v, want 2", n)
	}
}

// A text over 4,096 characters arrives as two messages, in order, and nothing is
// cut: joined with the line break cut at, they are the text.
func TestDeliveryLongText(t *testing.T) {
	env := newTestEnv(t)
	s := env.sender(t, delivery.SenderParams{Workers: 4})
	var b strings.Builder
	for i := 0; len([]rune(b.String())) < 6000; i++ {
		fmt.Fprintf(&b, "%03d. Nghị quyết chi bộ: nâng cao chất lượng sinh hoạt, phát huy dân chủ.\n", i)
	}
	text := strings.TrimSuffix(b.String(), "\n")
	if n := len([]rune(text)); n < 6000 {
		t.Fatalf("text of %d characters", n)
	}
	us := members(env.srv, 5)
	if _, err := s.StartJob(context.Background(), storage.QueueJob{ID: "long", Lang: texts.VI}, broadcast("long", us, textParts(text))); err != nil {
		t.Fatal(err)
	}
	env.srv.WaitUntil(func() bool {
		for _, u := range us {
			if len(u.Messages()) < 2 {
				return false
			}
		}
		return true
	})
	env.waitQueueEmpty(t)
	for i, u := range us {
		got := u.Messages()
		if len(got) != 2 {
			t.Fatalf("user %d got %d messages, want 2", i+1, len(got))
		}
		if joined := got[0].Text + "\n" + got[1].Text; joined != text {
			t.Errorf("user %d: the two parts do not make the text (lengths %d+%d of %d)", i+1, len(got[0].Text), len(got[1].Text), len(text))
		}
	}
}

// With every tenth send answered 429 (retry after 1), every message still
// arrives exactly once, later.
func TestDeliveryFlood(t *testing.T) {
	env := newTestEnv(t, telegramtest.WithFlood(10))
	s := env.sender(t, delivery.SenderParams{Workers: 4})
	secretary := env.srv.User("Bí thư")
	secretary.Start("")
	us := members(env.srv, 74)
	job := storage.QueueJob{ID: "flood", Lang: texts.VI, ReportChatID: secretary.ID()}
	if _, err := s.StartJob(context.Background(), job, broadcast(job.ID, us, textParts("Họp chi bộ"))); err != nil {
		t.Fatal(err)
	}
	env.waitJobDone(t, secretary.ID())
	for i, u := range us {
		if n := len(u.Messages()); n != 1 {
			t.Errorf("user %d got %d messages, want 1", i+1, n)
		}
	}
	if got := env.srv.Messages(secretary.ID()); len(got) != 1 || !strings.Contains(got[0].Text, "74/74") {
		t.Errorf("secretary got %+v, want one report of 74/74", got)
	}
	seen := env.srv.Stats().TooManyRequests
	if seen == 0 {
		t.Fatal("the server answered no 429")
	}
	if n := counter(t, env.reg, "cellbot_telegram_429_total", "", ""); n != float64(seen) {
		t.Errorf("cellbot_telegram_429_total = %v, server answered %d", n, seen)
	}
}

// A 400 (here, broken HTML in one member's message) is counted failed, named in
// the report, and not retried; a 5xx is retried and the message arrives.
func TestDeliveryErrors(t *testing.T) {
	env := newTestEnv(t)
	s := env.sender(t, delivery.SenderParams{Workers: 2})
	secretary := env.srv.User("Bí thư")
	secretary.Start("")
	us := members(env.srv, 4)
	msgs := broadcast("err", us, textParts("Họp chi bộ"))
	msgs[1].Parts = delivery.TextParts(us[1].ID(), []string{"<b>Họp chi bộ"}, nil) // can't parse entities
	env.srv.FailNext("sendMessage", 502, "Bad Gateway")
	job := storage.QueueJob{ID: "err", Lang: texts.VI, ReportChatID: secretary.ID()}
	if _, err := s.StartJob(context.Background(), job, msgs); err != nil {
		t.Fatal(err)
	}
	env.waitJobDone(t, secretary.ID())

	for i, u := range us {
		want := 1
		if i == 1 {
			want = 0
		}
		if n := len(u.Messages()); n != want {
			t.Errorf("user %d got %d messages, want %d", i+1, n, want)
		}
	}
	tries := 0
	for _, r := range env.srv.Requests("sendMessage") {
		// The injected 502 may fall on any message, this one included.
		if r.Params["chat_id"] == fmt.Sprint(us[1].ID()) && r.Code == 400 {
			tries++
		}
	}
	if tries != 1 {
		t.Errorf("the bad message drew %d × 400, want 1: not retried", tries)
	}
	report := env.srv.Messages(secretary.ID())[0].Text
	for _, want := range []string{texts.T(texts.VI, texts.DeliveryDone, 3, 4), "Gửi lỗi 1 đồng chí: Đồng chí 02"} {
		if !strings.Contains(report, want) {
			t.Errorf("report %q lacks %q", report, want)
		}
	}
	if n := counter(t, env.reg, "cellbot_delivery_sends_total", "result", "retry"); n != 1 {
		t.Errorf("sends_total{retry} = %v, want 1 (the 502)", n)
	}
	if n := counter(t, env.reg, "cellbot_delivery_sends_total", "result", "failed"); n != 1 {
		t.Errorf("sends_total{failed} = %v, want 1", n)
	}
}

// Direct keeps the same limits for immediate replies: a burst of replies to one
// chat is spread out instead of drawing a 429; a 429 with a short retry_after is
// waited out and retried once; methods that are not sends pass straight through.
func TestDeliveryDirect(t *testing.T) {
	env := newTestEnv(t)
	s := env.sender(t, delivery.SenderParams{})
	u := members(env.srv, 1)[0]
	direct := s.Direct()
	ctx := context.Background()
	for i := range 5 {
		if err := direct.Do(ctx, telegram.SendMessage{ChatID: u.ID(), Text: fmt.Sprint("trả lời ", i)}, nil); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	if n := env.srv.Stats().TooManyRequests; n != 0 {
		t.Errorf("server answered %d × 429 to 5 replies", n)
	}
	env.srv.FailNext("sendMessage", 429, "Too Many Requests: retry after 1")
	if err := direct.Do(ctx, telegram.SendMessage{ChatID: u.ID(), Text: "sau 429"}, nil); err != nil {
		t.Fatalf("after a 429: %v", err)
	}
	if n := len(u.Messages()); n != 6 {
		t.Errorf("user got %d messages, want 6", n)
	}
	var me telegram.User
	if err := direct.Do(ctx, telegram.Raw{Name: "getMe"}, &me); err != nil || me.ID != telegramtest.BotID {
		t.Errorf("getMe through Direct: %+v, %v", me, err)
	}
	if n := counter(t, env.reg, "cellbot_telegram_429_total", "", ""); n != 1 {
		t.Errorf("cellbot_telegram_429_total = %v, want 1", n)
	}
}

// A chat paused long by a 429 makes Direct answer ErrRateLimited at once rather
// than hold the handler.
func TestDeliveryDirectRateLimited(t *testing.T) {
	env := newTestEnv(t)
	s := env.sender(t, delivery.SenderParams{DirectMaxWait: time.Second})
	u := members(env.srv, 1)[0]
	env.srv.FailNext("sendMessage", 429, "Too Many Requests: retry after 30")
	err := s.Direct().Do(context.Background(), telegram.SendMessage{ChatID: u.ID(), Text: "a"}, nil)
	if _, is429 := telegram.RetryAfter(err); !is429 {
		t.Fatalf("first send: %v, want the 429", err)
	}
	err = s.Direct().Do(context.Background(), telegram.SendMessage{ChatID: u.ID(), Text: "b"}, nil)
	if !errors.Is(err, delivery.ErrRateLimited) {
		t.Errorf("send to the paused chat: %v, want ErrRateLimited", err)
	}
}

// The queue depth is read from Redis on scrape.
func TestDeliveryDepthMetric(t *testing.T) {
	env := newTestEnv(t)
	s, err := delivery.NewSender(delivery.SenderParams{Store: env.store, Caller: env.bot, Registerer: env.reg})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	msg := func(id string, prio int) delivery.Message {
		return delivery.Message{ID: id, To: storage.QueueRecipient{ChatID: 1}, Parts: delivery.TextParts(1, []string{id}, nil),
			Priority: prio, NotBefore: later}
	}
	if _, err := s.Enqueue(context.Background(), msg("a", storage.PriorityUrgent), msg("b", storage.PriorityBulk), msg("c", storage.PriorityBulk)); err != nil {
		t.Fatal(err)
	}
	wave := delivery.WaveTemplate{ID: "remind:1:1:1:7200:vi", CellID: 1, Purpose: "reminder", Parts: delivery.TextParts(0, []string{"Nhắc họp"}, nil)}
	if _, err := s.EnqueueWave(context.Background(), wave, []storage.WaveMessage{{MemberID: 2, ChatID: 2, After: time.Hour}, {MemberID: 3, ChatID: 3, After: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	mfs, err := env.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "cellbot_delivery_queue_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			k := mf.GetName()
			for _, l := range m.GetLabel() {
				k += "," + l.GetName() + "=" + l.GetValue()
			}
			got[k] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"cellbot_delivery_queue_ready,priority=0": 1,
		"cellbot_delivery_queue_ready,priority=1": 2,
		"cellbot_delivery_queue_leased":           0,
		"cellbot_delivery_queue_wave":             2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queue depth (-want +got):\n%s", diff)
	}
}

// A bulk message whose recipient is in quiet hours when its turn comes is held
// until they end; urgent messages go regardless.
func TestDeliveryHoldsBulkInQuietHours(t *testing.T) {
	env := newTestEnv(t)
	cells := &nightCells{}
	s := env.sender(t, delivery.SenderParams{Cells: cells})
	us := members(env.srv, 2)
	bulk := broadcast("night", us[:1], textParts("Thông báo ban đêm")) // cell 1
	urgent := delivery.Message{ID: "urgent:1", To: storage.QueueRecipient{CellID: 2, ChatID: us[1].ID()}, Parts: textParts("Khẩn")(us[1].ID()), Purpose: "reply", Priority: storage.PriorityUrgent}
	if _, err := s.Enqueue(context.Background(), append(bulk, urgent)...); err != nil {
		t.Fatal(err)
	}
	us[1].WaitMessage("Khẩn")
	waitFor(t, 10*time.Second, func() bool { _, ok := cells.asked.Load(int64(1)); return ok })
	// Held: back in the queue, not leased.
	waitFor(t, 10*time.Second, func() bool {
		d, err := env.store.QueueDepth(context.Background())
		return err == nil && d.Ready[storage.PriorityBulk] == 1 && d.Leased == 0
	})
	if n := len(us[0].Messages()); n != 0 {
		t.Errorf("in quiet hours: %d messages sent, want 0", n)
	}
	if _, ok := cells.asked.Load(int64(2)); ok {
		t.Error("an urgent message was checked for quiet hours")
	}
}

// nightCells is a delivery.Cells whose every cell is in its quiet hours now, in
// Vietnam's time zone; it notes which cells were asked for.
type nightCells struct{ asked sync.Map }

func (c *nightCells) Cell(_ context.Context, id int64) (cell.Cell, error) {
	c.asked.Store(id, true)
	now := time.Now().In(time.FixedZone("ICT", 7*3600))
	m := now.Hour()*60 + now.Minute()
	return cell.Cell{ID: id, TimeZone: "Asia/Ho_Chi_Minh", Quiet: cell.QuietHours{Start: (m + 1440 - 60) % 1440, End: (m + 120) % 1440}}, nil
}
