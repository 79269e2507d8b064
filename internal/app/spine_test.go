package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cellbot/cellbot/internal/testenv"
)

// TestUndecodableUpdateIsSkipped: an update with a field of a type the bot does
// not expect (as a newer Bot API might send) is logged and skipped; the updates
// around it are handled and polling goes on.
func TestUndecodableUpdateIsSkipped(t *testing.T) {
	e := newEnv(t)
	e.start()
	lan := e.srv.User("Lan")
	lan.Start("")
	lan.WaitMessage("Xin chào")

	bad := e.srv.RawUpdate("message", json.RawMessage(fmt.Sprintf(
		`{"message_id":99,"date":"tomorrow","chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"Lan"},"text":"/lang en"}`,
		lan.ID(), lan.ID())))
	lan.Send("/help")
	lan.WaitMessage("Để đăng ký nhận tin, xin bấm nút")
	e.srv.WaitIdle()
	if got := countContaining(lan.Messages(), "Language set to English"); got != 0 {
		t.Errorf("the undecodable update %d was acted on", bad)
	}
	// Polling goes on after it.
	lan.Send("/lang en")
	lan.WaitMessage("Language set to English")
}

// TestWebhookSkipsUndecodableUpdate: by webhook, an undecodable update is
// answered 200 (skipped), not refused forever.
func TestWebhookSkipsUndecodableUpdate(t *testing.T) {
	e := newEnv(t)
	port := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	e.vars["CELLBOT_HTTP_ADDR"] = port
	e.vars["CELLBOT_WEBHOOK_URL"] = "http://" + port + "/telegram/webhook"
	e.vars["CELLBOT_WEBHOOK_SECRET"] = "s3cret_token-2"
	e.start()
	lan := e.srv.User("Lan")
	e.srv.RawUpdate("message", json.RawMessage(fmt.Sprintf(
		`{"message_id":"one","date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"Lan"},"text":"/help"}`,
		lan.ID(), lan.ID())))
	lan.Start("")
	lan.WaitMessage("Xin chào")
	e.srv.WaitIdle()
}

// TestKilledHandlerIsTakenUpAgain: the process is killed (SIGKILL) while a
// handler runs (an /import caught in getFile). After the restart another chat's
// update is handled while the killed one is still waiting for its lease or its
// file, and the killed update is then taken up again and completed.
func TestKilledHandlerIsTakenUpAgain(t *testing.T) {
	e := newEnv(t)
	e.useOwnRedis()
	p := e.startProcess()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot output:\n%s", p.output())
		}
	})
	secretary := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(secretary)
	setupCell(t, e, secretary, g)

	release := e.srv.Hold("getFile")
	t.Cleanup(release)
	secretary.SendDocument("roster.csv", readFile(t, "roster74.csv"), "/import")
	e.srv.WaitUntil(func() bool { return e.srv.Held("getFile") >= 1 })
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil

	p = e.startProcess()
	other := e.srv.User("Hoa")
	other.Start("")
	other.WaitMessage("Xin chào")
	if n := countContaining(secretary.Messages(), "Đã nhập"); n != 0 {
		t.Fatalf("the import finished while its file was held")
	}
	// The restarted process takes the killed update up again once its lease
	// ends, and is caught in getFile again.
	e.srv.WaitUntil(func() bool { return e.srv.Held("getFile") >= 2 })
	release()
	secretary.WaitMessage("Đã nhập 74 đồng chí")
	e.srv.WaitIdle()
	c, err := e.store.CellByChat(context.Background(), g.ID())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rosterByName(t, e, c.ID)); n != 74 {
		t.Errorf("roster has %d members after the import was taken up again, want 74", n)
	}
	if n := countContaining(secretary.Messages(), "Đã nhập"); n != 1 {
		t.Errorf("import answered %d times, want once", n)
	}
}

// TestShutdownCutsOffAndTheUpdateComesAgain: an update whose handler is still
// running when the grace period ends is not recorded as handled nor confirmed;
// the next start handles it. The last confirmation of the offset is not refused
// by the cancelled long poll.
func TestShutdownCutsOffAndTheUpdateComesAgain(t *testing.T) {
	e := newEnv(t)
	b := e.start()
	secretary := e.srv.User("Nguyễn Thị Lan")
	g := e.srv.Group("Chi bộ Khu phố 3")
	g.AddAdmin(secretary)
	setupCell(t, e, secretary, g)

	release := e.srv.Hold("getFile")
	t.Cleanup(release)
	secretary.SendDocument("roster.csv", readFile(t, "roster74.csv"), "/import")
	e.srv.WaitUntil(func() bool { return e.srv.Held("getFile") >= 1 })
	b.stop() // returns after the grace period: the import is cut off
	for _, r := range e.srv.Requests("getUpdates") {
		if r.Params["limit"] == "1" && r.Code != 200 {
			t.Errorf("the last confirmation of the offset got %d %s", r.Code, r.Description)
		}
	}

	release()
	e.start()
	secretary.WaitMessage("Đã nhập 74 đồng chí")
	e.srv.WaitIdle()
	if n := countContaining(secretary.Messages(), "Đã nhập"); n != 1 {
		t.Errorf("import answered %d times, want once", n)
	}
}
