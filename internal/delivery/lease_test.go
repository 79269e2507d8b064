package delivery_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// slowCaller answers each call d after Telegram took it, as a Bot API under
// load, or a slow network back, does.
type slowCaller struct {
	next telegram.Caller
	d    time.Duration
}

func (c slowCaller) Do(ctx context.Context, req telegram.Request, result any) error {
	err := c.next.Do(ctx, req, result)
	time.Sleep(c.d)
	return err
}

// TestDeliveryLeaseOutlastsASlowSend: a send that takes several leases is not
// taken over by another process's recoverer, because the worker renews its
// lease while the send is in flight: each message arrives once.
func TestDeliveryLeaseOutlastsASlowSend(t *testing.T) {
	e := newTestEnv(t)
	us := members(e.srv, 3)
	// The lease is renewed every third of it: a second of slack, so that a
	// renewal delayed by a loaded machine (-race, the suite in parallel) is
	// not taken for a dead worker.
	const lease = 1500 * time.Millisecond
	p := delivery.SenderParams{Lease: lease, RecoverEvery: 50 * time.Millisecond, Caller: slowCaller{next: e.bot, d: 3 * lease}}
	a := e.sender(t, p)
	// A second process on the same queue, whose recoverer would take over a
	// lease that was not renewed.
	p.Registerer = prometheus.NewRegistry()
	e.sender(t, p)
	var msgs []delivery.Message
	for i, u := range us {
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("slow:%d", i),
			To:       storage.QueueRecipient{CellID: 1, MemberID: int64(i + 1), ChatID: u.ID()},
			Parts:    delivery.TextParts(u.ID(), []string{"Kính mời đồng chí dự họp."}, nil),
			Purpose:  "reply",
			Priority: storage.PriorityUrgent,
		})
	}
	if _, err := a.Enqueue(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	e.srv.WaitUntil(func() bool {
		for _, u := range us {
			if len(u.Messages()) == 0 {
				return false
			}
		}
		return true
	})
	// Then until the queue is empty: nothing can be sent after that.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d, err := e.store.QueueDepth(context.Background())
		if err == nil && d.Ready[0]+d.Ready[1]+d.Leased == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue did not empty: %+v, %v", d, err)
		}
	}
	for _, u := range us {
		if n := len(u.Messages()); n != 1 {
			t.Errorf("user %d got %d messages, want 1", u.ID(), n)
		}
	}
}

// TestDeliveryProgressThroughTheQueue: a job's progress message goes through
// the queue with the job, its id recorded; its edits and the final report
// follow it in the secretary's lane, so the one message ends as the report and
// no "⏳" edit lands after it.
func TestDeliveryProgressThroughTheQueue(t *testing.T) {
	env := newTestEnv(t)
	s := env.sender(t, delivery.SenderParams{Workers: 4, ProgressEvery: 100 * time.Millisecond})
	secretary := env.srv.User("Bí thư")
	secretary.Start("")
	us := members(env.srv, 40)
	job := storage.QueueJob{ID: "jq", CellID: 1, Purpose: "broadcast", Lang: texts.VI, ReportChatID: secretary.ID(),
		Progress: texts.T(texts.VI, texts.DeliveryStarted, "40 đồng chí")}
	if _, err := s.StartJob(context.Background(), job, broadcast(job.ID, us, textParts("Kính mời dự họp."))); err != nil {
		t.Fatal(err)
	}
	env.waitJobDone(t, secretary.ID())
	got := env.srv.Messages(secretary.ID())
	done := texts.T(texts.VI, texts.DeliveryDone, 40, 40)
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, done) {
		t.Fatalf("secretary got %+v; want one message, the progress message become the report", got)
	}
	edits := env.srv.Requests("editMessageText")
	if len(edits) == 0 || !strings.HasPrefix(edits[len(edits)-1].Params["text"], done) {
		t.Errorf("the last edit is not the report: %d edits", len(edits))
	}
}

// TestDeliveryPaidBroadcast: with PaidBroadcast every send carries
// allow_paid_broadcast, and the overall limit is the paid one.
func TestDeliveryPaidBroadcast(t *testing.T) {
	env := newTestEnv(t)
	s := env.sender(t, delivery.SenderParams{PaidBroadcast: true})
	us := members(env.srv, 3)
	if _, err := s.Enqueue(context.Background(), broadcast("paid", us, textParts("Kính mời dự họp."))...); err != nil {
		t.Fatal(err)
	}
	env.srv.WaitUntil(func() bool { return len(env.srv.Requests("sendMessage")) >= len(us) })
	for _, r := range env.srv.Requests("sendMessage") {
		if r.Params["allow_paid_broadcast"] != "true" {
			t.Errorf("a send without allow_paid_broadcast: %v", r.Params)
		}
	}
	if got := storage.PaidRateLimits().Global.Every; got > time.Second/900 {
		t.Errorf("the paid overall limit is one send every %v, want about 1 ms", got)
	}
}
