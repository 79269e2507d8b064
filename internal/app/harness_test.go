package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/app"
	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
	"github.com/redis/go-redis/v9"
)

// useOwnRedis points the env at a redis-server of its own, with the production
// key prefix, for tests that run the bot as a separate process.
func (e *env) useOwnRedis() {
	srv := testenv.StartRedis(e.t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	e.t.Cleanup(func() { _ = rdb.Close() })
	e.store, e.prefix = storage.New(rdb, ""), "cellbot"
	e.vars["REDIS_URL"] = srv.URL()
}

// env is one end-to-end setting: a Bot API test server, a Redis key space, and
// the settings a bot process gets.
type env struct {
	t      *testing.T
	srv    *telegramtest.Server
	store  *storage.Store
	prefix string
	vars   map[string]string
	now    func() time.Time // the bot's clock; nil: time.Now
	// leaveSweep, when set, is how often the bot applies leaving days.
	leaveSweep time.Duration
	// answerWithin, when set, is how long a press waits for its handler's
	// answer: tests that read refusals in the answers set it long, so that a
	// handler slowed by the parallel suite does not lose its text to the
	// early empty answer.
	answerWithin time.Duration
	rdb          *redis.Client
	// running is the bot start started last.
	running *runningBot
}

func newEnv(t *testing.T, opts ...telegramtest.Option) *env {
	t.Helper()
	// Replies in a group wait for its slot (one each 3.2 s): a wait of 10 s
	// is two slots behind another reply on a loaded machine. A test's own
	// option comes after, and wins.
	opts = append([]telegramtest.Option{telegramtest.WithWaitTimeout(30 * time.Second)}, opts...)
	srv := telegramtest.NewServer(t, opts...)
	// The test server answers as strictly as Telegram: a request it refuses
	// as malformed (400: bad HTML, a null keyboard, a message too long) is a
	// bot mistake, whatever the test checks. An edit that changes nothing is
	// not one: two replicas, or a retry after a timeout, may send one edit
	// twice (the edit tests count those themselves).
	t.Cleanup(func() {
		for _, r := range srv.Requests("") {
			if r.Code == http.StatusBadRequest && !strings.Contains(r.Description, "message is not modified") {
				t.Errorf("Telegram refused %s: %s (text %.80q)", r.Method, r.Description, r.Params["text"])
			}
		}
	})
	rdb, prefix := testenv.RedisEnv(t)
	return &env{
		t: t, srv: srv, store: storage.New(rdb, prefix), prefix: prefix, rdb: rdb,
		vars: map[string]string{
			"TELEGRAM_BOT_TOKEN":    telegramtest.Token,
			"TELEGRAM_API_ENDPOINT": srv.Endpoint(),
			"REDIS_URL":             "redis://" + testenv.RedisAddr(t) + "/0",
			// Any free port: tests run in parallel, and a port picked ahead may be
			// taken by another test before the bot binds it.
			"CELLBOT_HTTP_ADDR": "127.0.0.1:0",
		},
	}
}

// runningBot is the bot running in this test process, through app.Run as main
// runs it.
type runningBot struct {
	cancel context.CancelFunc
	done   chan error
	addr   string
}

func (e *env) start() *runningBot {
	e.t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := e.vars[k]; return v, ok })
	if err != nil {
		e.t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &runningBot{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	logger := slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() {
		b.done <- app.Run(ctx, cfg, logger, app.Options{KeyPrefix: e.prefix, Now: e.now, LeaveSweep: e.leaveSweep, AnswerWithin: e.answerWithin, Ready: func(a string) { ready <- a }})
	}()
	select {
	case b.addr = <-ready:
	case err := <-b.done:
		e.t.Fatalf("bot did not start: %v", err)
	case <-time.After(20 * time.Second):
		e.t.Fatal("bot did not start within 20 s")
	}
	e.t.Cleanup(b.stop)
	e.running = b
	return b
}

var stopOnce sync.Map

func (b *runningBot) stop() {
	if _, loaded := stopOnce.LoadOrStore(b, true); loaded {
		return
	}
	b.cancel()
	<-b.done
}

// testWriter sends logs to the test's log while the test runs.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/cellbot once per test run, for tests that stop and start the
// real process.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cellbot-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cellbot")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/cellbot").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is the bot running as its own process.
type process struct {
	cmd  *exec.Cmd
	done chan error
	out  *strings.Builder
	mu   *sync.Mutex
}

func (e *env) startProcess() *process {
	e.t.Helper()
	var bin string
	if e.vars[envRunBot] != "" {
		// The test binary is the bot (see runBot), with its kill probe.
		self, err := os.Executable()
		if err != nil {
			e.t.Fatal(err)
		}
		bin = self
	} else {
		bin = binary(e.t)
	}
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range e.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, done: make(chan error, 1), out: &strings.Builder{}, mu: &sync.Mutex{}}
	cmd.Stdout, cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

type lockedWriter struct{ p *process }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// terminate sends SIGTERM and returns how the process exited; an operator
// expects it gone within 10 s (README).
func (p *process) terminate(t testing.TB) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("bot did not stop within 10 s of SIGTERM; output:\n%s", p.output())
	}
	return nil
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
