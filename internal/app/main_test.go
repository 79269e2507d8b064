package app_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cellbot/cellbot/internal/app"
	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// e2eParallel is how many end-to-end tests run at once unless -parallel says
// otherwise. They spend most of their time waiting for the Bot API test server's
// flood limits (a group's 20 a minute, a chat's one a second), not on the CPU, so
// go test's default of GOMAXPROCS (2 on a small CI machine) would leave them
// mostly idle. Each test has its own test server, Redis key prefix (rate limits
// included), HTTP port, and for those that restart Redis, its own redis-server.
const e2eParallel = 8

// TestMain starts one redis-server for the package (its clients share it under
// their own key prefixes) and raises the default -parallel.
func TestMain(m *testing.M) {
	if os.Getenv(envRunBot) != "" {
		os.Exit(runBot())
	}
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(e2eParallel, runtime.GOMAXPROCS(0))))
	}
	testenv.RunWithRedis(m)
}

// The test binary runs as the bot itself when envRunBot is set, as cmd/cellbot
// does, with a probe that SIGKILLs the process at a step of the scheduler or of
// delivery (scheduler.Probe*, delivery.ProbeSent). The step is read, at each
// call, from the file "at" in envKillDir: "<round> <step>[@n] [id prefix]", the
// n-th time this process reaches the step (with an id of that prefix) in that
// round. Only the first process to get there dies: it creates the file
// "killed", which the test removes before the next round.
const (
	envRunBot  = "CELLBOT_TEST_RUN_BOT"
	envKillDir = "CELLBOT_TEST_KILL_DIR"
)

func runBot() int {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	redis.SetLogger(app.RedisLogger(logger))
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := app.Options{}
	if dir := os.Getenv(envKillDir); dir != "" {
		opts.Probe = killProbe(logger, dir)
	}
	if err := app.Run(ctx, cfg, logger, opts); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "cellbot cannot start: %v\n", err)
		return 1
	}
	return 0
}

func killProbe(logger *slog.Logger, dir string) func(point, id string) {
	var mu sync.Mutex
	reached := map[string]int{}
	return func(p, id string) {
		b, err := os.ReadFile(filepath.Join(dir, "at"))
		if err != nil {
			return
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return
		}
		point, nth := f[1], 1
		if q, n, ok := strings.Cut(point, "@"); ok {
			point = q
			nth, _ = strconv.Atoi(n)
		}
		if p != point || (len(f) > 2 && !strings.HasPrefix(id, f[2])) {
			return
		}
		mu.Lock()
		reached[f[0]]++
		n := reached[f[0]]
		mu.Unlock()
		if n != nth {
			return
		}
		k, err := os.OpenFile(filepath.Join(dir, "killed"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return
		}
		if err != nil {
			logger.Error("kill probe", "err", err)
			return
		}
		fmt.Fprintf(k, "%d %s %s\n", os.Getpid(), p, id)
		_ = k.Close()
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
