package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

func waveTemplate(id string) storage.WaveTemplate {
	return storage.WaveTemplate{ID: id, CellID: 7, Purpose: "reminder",
		Parts: []json.RawMessage{json.RawMessage(`{"method":"sendMessage","params":{"chat_id":"0","text":"Nhắc họp"}}`)}}
}

// TestWave: a round's messages wait in the wave until their time, are released
// into their chats' urgent lanes, are claimed with the template's parts, and
// are never queued twice: not while waiting, not once released, not once sent.
func TestWave(t *testing.T) {
	s, _ := newQueueStore(t)
	ctx := context.Background()
	tpl := waveTemplate("remind:7:3:1:7200:vi")
	msgs := []storage.WaveMessage{
		{MemberID: 1, ChatID: 901},
		{MemberID: 2, ChatID: 902, After: 10 * time.Second},
		{MemberID: 3, ChatID: 903, After: 20 * time.Second},
	}
	enqueue := func(now time.Time, msgs []storage.WaveMessage) int {
		t.Helper()
		n, err := s.EnqueueWave(ctx, now, tpl, msgs)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	release := func(now time.Time) (int, time.Time) {
		t.Helper()
		n, next, err := s.ReleaseWave(ctx, now, now, storage.QueueBatch)
		if err != nil {
			t.Fatal(err)
		}
		return n, next
	}
	if n := enqueue(queueT0, msgs); n != 3 {
		t.Fatalf("queued %d, want 3", n)
	}
	if n := enqueue(queueT0, msgs); n != 0 {
		t.Fatalf("queued the same round again: %d new", n)
	}
	if d, err := s.QueueDepth(ctx); err != nil || d.Wave != 3 || d.Ready[0] != 0 {
		t.Fatalf("depth = %+v, %v; want 3 in the wave, nothing in the lanes", d, err)
	}
	if e := mustClaim(t, s, queueT0, time.Minute, "tok"); e != nil {
		t.Fatalf("claimed %s before any was released", e.ID)
	}
	n, next := release(queueT0)
	if n != 1 || !next.Equal(queueT0.Add(10*time.Second)) {
		t.Fatalf("released %d, next at %v; want 1, the next 10 s later", n, next)
	}
	e := mustClaim(t, s, queueT0, time.Minute, "tok")
	if e == nil || e.ID != "remind:7:3:1:7200:vi:1" || e.Template != tpl.ID || e.To.ChatID != 901 || e.To.MemberID != 1 ||
		e.To.CellID != 7 || e.Priority != storage.PriorityUrgent || e.Purpose != "reminder" {
		t.Fatalf("claimed %+v", e)
	}
	if len(e.Parts) != 1 || string(e.Parts[0]) != string(tpl.Parts[0]) {
		t.Fatalf("parts = %s; want the template's", e.Parts)
	}
	mustDone(t, s, e.ID, e.Token)
	// Queued again after it was sent (a round redone after a crash): left alone.
	if n := enqueue(queueT0.Add(time.Second), msgs[:1]); n != 0 {
		t.Fatalf("a sent member queued again: %d new", n)
	}
	if n, _ := release(queueT0.Add(20 * time.Second)); n != 2 {
		t.Fatalf("released %d at +20 s, want 2", n)
	}
	// Released but not sent: queueing the round again adds nothing either.
	if n := enqueue(queueT0.Add(20*time.Second), msgs); n != 0 {
		t.Fatalf("released members queued again: %d new", n)
	}
	got := map[int64]bool{}
	for range 2 {
		e := mustClaim(t, s, queueT0.Add(20*time.Second), time.Minute, "tok2")
		if e == nil {
			t.Fatal("a released message was not claimed")
		}
		got[e.To.ChatID] = true
		mustDone(t, s, e.ID, e.Token)
	}
	if !got[902] || !got[903] {
		t.Fatalf("claimed chats %v; want 902 and 903", got)
	}
	if d, err := s.QueueDepth(ctx); err != nil || d.Wave+d.Ready[0]+d.Ready[1]+d.Leased != 0 {
		t.Fatalf("depth = %+v, %v; want empty", d, err)
	}
}

// TestWaveKeepsAChatsOrder: a reminder released into a chat that has a
// message waiting goes after it.
func TestWaveKeepsAChatsOrder(t *testing.T) {
	s, _ := newQueueStore(t)
	ctx := context.Background()
	mustEnqueue(t, s, queueT0, toChat("reply", 901, storage.PriorityUrgent))
	if _, err := s.EnqueueWave(ctx, queueT0, waveTemplate("remind:7:3:1:7200:vi"), []storage.WaveMessage{{MemberID: 1, ChatID: 901}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ReleaseWave(ctx, queueT0, queueT0, storage.QueueBatch); err != nil {
		t.Fatal(err)
	}
	var order []string
	for range 2 {
		e := mustClaim(t, s, queueT0, time.Minute, "tok")
		if e == nil {
			t.Fatalf("claimed nothing after %v", order)
		}
		order = append(order, e.ID)
		mustDone(t, s, e.ID, e.Token)
	}
	if order[0] != "reply" || order[1] != "remind:7:3:1:7200:vi:1" {
		t.Fatalf("order %v; want the reply, then the reminder", order)
	}
}

// TestWaveTemplateGone: an entry whose template expired is dropped, not sent
// empty.
func TestWaveTemplateGone(t *testing.T) {
	s, rdb := newQueueStore(t)
	ctx := context.Background()
	tpl := waveTemplate("remind:7:3:1:7200:vi")
	if _, err := s.EnqueueWave(ctx, queueT0, tpl, []storage.WaveMessage{{MemberID: 1, ChatID: 901}}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, s.Keys().QueueTemplate(tpl.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.ReleaseWave(ctx, queueT0, queueT0, storage.QueueBatch); err != nil || n != 1 {
		t.Fatalf("release = %d, %v", n, err)
	}
	if e := mustClaim(t, s, queueT0, time.Minute, "tok"); e != nil {
		t.Fatalf("claimed %s, whose template is gone", e.ID)
	}
}

// TestPromoteDue: a round is promoted once, with its window and reservations;
// the reservations of buckets gone by are dropped.
func TestPromoteDue(t *testing.T) {
	s, _ := newQueueStore(t)
	ctx := context.Background()
	due := queueT0.Add(time.Hour)
	d := storage.DueItem{Kind: storage.DueRemind, CellID: 7, MeetingID: 3, Arg: 7200, Version: 1, At: due}
	if err := s.ScheduleDue(ctx, d); err != nil {
		t.Fatal(err)
	}
	start, end := due.Add(-30*time.Minute), due.Add(-15*time.Second)
	taken := storage.WaveLoad{storage.WaveBucketOf(start): 2.5, storage.WaveBucketOf(end): 3}
	plan := storage.WavePlan{End: end, Taken: taken}
	ok, err := s.PromoteDue(ctx, d, queueT0, plan)
	if err != nil || !ok {
		t.Fatalf("promote = %v, %v", ok, err)
	}
	if ok, err := s.PromoteDue(ctx, d, queueT0, plan); err != nil || ok {
		t.Fatalf("promoted twice: %v, %v", ok, err)
	}
	items, err := s.DueBetween(ctx, queueT0.Add(-time.Second), queueT0)
	if err != nil || len(items) != 1 || items[0].Name() != d.Name() {
		t.Fatalf("due by now = %v, %v; want the promoted item", items, err)
	}
	got, ok, err := s.PlannedRound(ctx, d)
	if err != nil || !ok || !got.End.Equal(end) || !cmp.Equal(got.Taken, taken) {
		t.Fatalf("plan = %+v %v %v; want %+v", got, ok, err, plan)
	}
	load1, err := s.WaveLoadFrom(ctx, queueT0)
	if err != nil || load1[storage.WaveBucketOf(start)] != 2.5 || load1[storage.WaveBucketOf(end)] != 3 {
		t.Fatalf("load = %v, %v", load1, err)
	}
	load1, err = s.WaveLoadFrom(ctx, end)
	if err != nil || len(load1) != 1 || load1[storage.WaveBucketOf(end)] != 3 {
		t.Fatalf("load from the window's end = %v, %v; want its last bucket only", load1, err)
	}
	if err := s.ForgetPlan(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.PlannedRound(ctx, d); err != nil || ok {
		t.Fatalf("plan after forget = %v, %v", ok, err)
	}
	// An item no longer waiting (done, or moved away) is not promoted.
	other := d
	other.Version = 2
	if ok, err := s.PromoteDue(ctx, other, queueT0, plan); err != nil || ok {
		t.Fatalf("promoted an item that is not waiting: %v, %v", ok, err)
	}
}

// BenchmarkWaveEntry: the Redis memory one member's reminder takes while it
// waits in the wave (the round's template counted once per 51 members).
func BenchmarkWaveEntry(b *testing.B) {
	ctx := context.Background()
	srv := testenv.StartRedis(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	s := storage.New(rdb, "")
	const rounds, members = 200, 51
	for range b.N {
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		before := testenv.RedisInfo(b, rdb, "memory", "used_memory")
		for r := range rounds {
			tpl := waveTemplate(fmt.Sprintf("remind:%d:12:1:7200:vi", 1000+r))
			msgs := make([]storage.WaveMessage, members)
			for m := range msgs {
				msgs[m] = storage.WaveMessage{MemberID: int64(m + 1), ChatID: 1_000_000_000 + int64(r*100+m), After: time.Duration(m) * time.Minute}
			}
			if _, err := s.EnqueueWave(ctx, queueT0, tpl, msgs); err != nil {
				b.Fatal(err)
			}
		}
		after := testenv.RedisInfo(b, rdb, "memory", "used_memory")
		b.ReportMetric(float64(after-before)/(rounds*members), "bytes/entry")
	}
}

// TestMeetingAnswer: the check before a planned reminder reads the meeting
// and one member's answer, which may be none; a meeting gone is ErrNotFound.
func TestMeetingAnswer(t *testing.T) {
	s, _ := newQueueStore(t)
	ctx := context.Background()
	c, sec, err := s.CreateCell(ctx, cell.Cell{Name: "Chi bộ", TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"}, cell.Member{Name: "Bí thư Lan", UserID: 900})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := s.CreateMeeting(ctx, "t", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: queueT0.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got, a, err := s.MeetingAnswer(ctx, c.ID, m.ID, sec.ID); err != nil || got.ID != m.ID || a.Kind != "" {
		t.Fatalf("before any answer = %+v, %+v, %v", got, a, err)
	}
	if _, err := s.Answer(ctx, c.ID, m.ID, cell.Answer{MemberID: sec.ID, Kind: cell.Excused, Reason: cell.ReasonIllness, At: queueT0}, queueT0); err != nil {
		t.Fatal(err)
	}
	if got, a, err := s.MeetingAnswer(ctx, c.ID, m.ID, sec.ID); err != nil || got.ID != m.ID || a.Kind != cell.Excused || a.MemberID != sec.ID {
		t.Fatalf("after excused = %+v, %+v, %v", got, a, err)
	}
	if _, _, err := s.MeetingAnswer(ctx, c.ID, m.ID+1, sec.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a meeting that is not there: %v, want ErrNotFound", err)
	}
}
