package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// The child sender started by TestDeliveryCrash reads its settings from these.
const (
	helperEnv         = "CELLBOT_DELIVERY_HELPER" // "1" in the child
	helperRedisEnv    = "CELLBOT_DELIVERY_HELPER_REDIS"
	helperPrefixEnv   = "CELLBOT_DELIVERY_HELPER_PREFIX"
	helperEndpointEnv = "CELLBOT_DELIVERY_HELPER_ENDPOINT"
	helperWorkers     = 4
)

// crashLimits are fast limits for the crash test: the test server's limits are
// off, and the point is the takeover, not the pace.
func crashLimits() storage.RateLimits {
	l := storage.DefaultRateLimits()
	l.Global = storage.RateLimit{Every: time.Second / 250, Burst: 1}
	return l
}

// TestDeliveryCrashHelper is not a test: it is the child sender process of
// TestDeliveryCrash, and runs only when started by it.
func TestDeliveryCrashHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("the child process of TestDeliveryCrash")
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(helperRedisEnv)})
	bot, err := telegram.New(context.Background(), telegramtest.Token, os.Getenv(helperEndpointEnv), &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := delivery.NewSender(delivery.SenderParams{
		Store:        storage.New(rdb, os.Getenv(helperPrefixEnv)),
		Caller:       bot,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Workers:      helperWorkers,
		Lease:        time.Second,
		SendTimeout:  500 * time.Millisecond,
		MaxWait:      200 * time.Millisecond,
		Limits:       crashLimits(),
		RecoverEvery: time.Hour, // the survivor recovers
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "helper: sending")
	_ = s.Run(context.Background()) // until SIGKILL
}

// A sender killed with SIGKILL in the middle of a 500-recipient job: a second
// sender takes its leases over when they expire, and every recipient gets the
// message at least once and at most once more than the messages that were in
// flight (one per worker of the dead process).
func TestDeliveryCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	env := newTestEnv(t, telegramtest.WithoutLimits())

	secretary := env.srv.User("Bí thư")
	secretary.Start("")
	us := members(env.srv, 500)
	job := storage.QueueJob{ID: "crash", Lang: texts.VI, ReportChatID: secretary.ID()}
	enq, err := delivery.NewSender(delivery.SenderParams{Store: env.store, Caller: env.bot})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enq.StartJob(context.Background(), job, broadcast(job.ID, us, textParts("Họp chi bộ"))); err != nil {
		t.Fatal(err)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestDeliveryCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(),
		helperEnv+"=1",
		helperRedisEnv+"="+testenv.RedisAddr(t),
		helperPrefixEnv+"="+env.prefix,
		helperEndpointEnv+"="+env.srv.Endpoint(),
	)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child output:\n%s", out.String())
		}
	})

	delivered := func() int {
		n := 0
		st := env.srv.Stats()
		for _, u := range us {
			n += st.Delivered[u.ID()]
		}
		return n
	}
	env.srv.WaitUntil(func() bool { return delivered() >= 100 })
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	_ = cmd.Wait() // "signal: killed"
	atKill := delivered()
	t.Logf("killed the child after %d deliveries", atKill)
	if atKill >= len(us) {
		t.Fatalf("the child delivered everything (%d) before the kill", atKill)
	}

	// The survivor: a short recovery period so that it takes over soon after the
	// child's leases (1 s) end.
	env.sender(t, delivery.SenderParams{Workers: 4, Lease: time.Second, RecoverEvery: 100 * time.Millisecond,
		Limits: crashLimits()})
	env.waitJobDone(t, secretary.ID())

	dups := 0
	for i, u := range us {
		n := len(u.Messages())
		if n < 1 || n > 1+helperWorkers {
			t.Errorf("user %d got %d messages, want 1 to %d", i+1, n, 1+helperWorkers)
		}
		dups += max(n-1, 0)
	}
	if dups > helperWorkers {
		t.Errorf("%d messages sent twice; at most %d were in flight", dups, helperWorkers)
	}
	t.Logf("%d duplicates after the crash", dups)
	if n := len(env.srv.Messages(secretary.ID())); n != 1 {
		t.Errorf("secretary got %d reports, want 1", n)
	}
}

// lockedBuffer collects a child's output from os/exec's copying goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
