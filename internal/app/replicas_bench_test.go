package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
	"github.com/redis/go-redis/v9"
)

// BenchmarkWebhookReplicas measures RSVP presses in the group handled per
// second by 1, 2 and 3 bot processes in webhook mode behind a round-robin
// proxy, on one real Redis, in the same run. Presses are posted to the proxy
// by 32 connections at once, as Telegram does (max_connections defaults to
// 40); a press is handled when its post is answered 200: claimed, the answer
// saved, the live counts marked, answerCallbackQuery called (it is not under
// the send limits), recorded as done.
func BenchmarkWebhookReplicas(b *testing.B) {
	srv := telegramtest.NewServer(b, telegramtest.WithWaitTimeout(time.Minute))
	rs := testenv.StartRedis(b)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	b.Cleanup(func() { _ = rdb.Close() })
	store := storage.New(rdb, "")
	ctx := context.Background()
	g := srv.Group("Chi bộ Khu phố 3")
	const members = 74
	users := make([]int64, members)
	for i := range users {
		users[i] = srv.User(fmt.Sprintf("Đảng Viên %02d", i)).ID()
	}
	c, _, err := store.CreateCell(ctx, cell.Cell{Name: "Chi bộ 3", ChatID: g.ID(), TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"},
		cell.Member{Name: "Đảng Viên 00", UserID: users[0]})
	if err != nil {
		b.Fatal(err)
	}
	roster := make([]cell.Member, 0, members-1)
	for i := 1; i < members; i++ {
		roster = append(roster, cell.Member{Name: fmt.Sprintf("Đảng Viên %02d", i), Standing: cell.Official, Participation: cell.Regular})
	}
	if _, err := store.ImportMembers(ctx, c.ID, roster); err != nil {
		b.Fatal(err)
	}
	ms, err := store.Members(ctx, c.ID)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range ms {
		if m.UserID != 0 {
			continue
		}
		var n int
		fmt.Sscanf(m.Name, "Đảng Viên %d", &n)
		if err := store.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: users[n], Name: m.Name, MemberID: m.ID}); err != nil {
			b.Fatal(err)
		}
		if _, err := store.ConfirmJoin(ctx, c.ID, users[n]); err != nil {
			b.Fatal(err)
		}
	}
	m, _, err := store.CreateMeeting(ctx, "bench", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: time.Now().Add(24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{
		"TELEGRAM_BOT_TOKEN":     telegramtest.Token,
		"TELEGRAM_API_ENDPOINT":  srv.Endpoint(),
		"REDIS_URL":              rs.URL(),
		"CELLBOT_WEBHOOK_SECRET": "bench_secret",
	}
	var seq atomic.Int64
	seq.Store(1_000_000)
	press := func(i int) []byte {
		id := seq.Add(1)
		u := users[i%members]
		q := map[string]any{
			"id":            fmt.Sprintf("q%d", id),
			"from":          map[string]any{"id": u, "is_bot": false, "first_name": fmt.Sprintf("Đảng Viên %02d", i%members), "language_code": "vi"},
			"chat_instance": "bench",
			"data":          scheduler.RSVPData(c.ID, m.ID, []int{scheduler.RSVPComing, scheduler.RSVPUnsure}[i%2]),
			"message": map[string]any{"message_id": 1, "date": time.Now().Unix(),
				"chat": map[string]any{"id": g.ID(), "type": "supergroup", "title": "Chi bộ Khu phố 3"},
				"from": map[string]any{"id": 1, "is_bot": true, "first_name": "cellbot"}, "text": "Thông báo"},
		}
		raw, _ := json.Marshal(q)
		srv.KnowCallbackQuery(raw)
		body, _ := json.Marshal(map[string]any{"update_id": id, "callback_query": json.RawMessage(raw)})
		return body
	}
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			backends := make([]string, n)
			for i := range backends {
				backends[i] = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(b))
			}
			lb := roundRobin(b, backends)
			hook := lb.URL + "/telegram/webhook"
			ps := make([]*process, n)
			for i := range ps {
				v := map[string]string{"CELLBOT_HTTP_ADDR": strings.TrimPrefix(backends[i], "http://"), "CELLBOT_WEBHOOK_URL": hook}
				for k, x := range vars {
					v[k] = x
				}
				ps[i] = benchProcess(b, v)
			}
			for _, p := range ps {
				waitOutput(b, p, "cellbot is running", time.Minute)
			}
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = press(i)
			}
			answered := len(srv.Requests("answerCallbackQuery"))
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var next atomic.Int64
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 32 {
				wg.Go(func() {
					for {
						i := int(next.Add(1) - 1)
						if i >= len(bodies) {
							return
						}
						for {
							req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader(bodies[i]))
							req.Header.Set("Content-Type", "application/json")
							req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "bench_secret")
							resp, err := client.Do(req)
							if err == nil {
								resp.Body.Close()
								if resp.StatusCode == http.StatusOK {
									break
								}
							}
							failed.Add(1) // Telegram would deliver it again
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "presses/s")
			if got := len(srv.Requests("answerCallbackQuery")) - answered; got < b.N {
				b.Errorf("%d presses answered, want %d", got, b.N)
			}
			if f := failed.Load(); f > 0 {
				b.Logf("%d posts were not answered 200 and were posted again", f)
			}
			for _, p := range ps {
				_ = p.terminate(b)
			}
		})
	}
}

// benchProcess starts the bot binary with vars for a benchmark.
func benchProcess(tb testing.TB, vars map[string]string) *process {
	tb.Helper()
	cmd := exec.Command(binary(tb))
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, done: make(chan error, 1), out: &strings.Builder{}, mu: &sync.Mutex{}}
	cmd.Stdout, cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		err := <-p.done
		p.done <- err
	})
	return p
}
