package redisserver_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/redisserver"
)

// start starts a server in a temporary directory and stops it when the test ends. A
// missing redis-server fails the test: `make test` installs it.
func start(t *testing.T, opts redisserver.Options) *redisserver.Server {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "redis")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := redisserver.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func client(t *testing.T, s *redisserver.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRestartKeepsAppendOnlyData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, redisserver.Options{AppendOnly: true})
	addr := s.Addr()

	c := client(t, s)
	if err := c.Set(ctx, "greeting", "xin chào", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if s.Addr() != addr {
		t.Errorf("Addr after Restart = %s, want %s", s.Addr(), addr)
	}
	got, err := c.Get(ctx, "greeting").Result()
	if err != nil || got != "xin chào" {
		t.Fatalf("GET after Restart = %q, %v; want %q", got, err, "xin chào")
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "appendonlydir")); err != nil {
		t.Errorf("no append-only directory: %v", err)
	}
}

func TestWithoutAppendOnlyNothingIsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, redisserver.Options{})
	c := client(t, s)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS after Restart = %d, %v; want 0", n, err)
	}
}

func TestNotInstalled(t *testing.T) {
	t.Parallel()
	_, err := redisserver.Start(context.Background(), redisserver.Options{
		Dir:    t.TempDir(),
		Binary: filepath.Join(t.TempDir(), "no-such-redis-server"),
	})
	if !errors.Is(err, redisserver.ErrNotInstalled) {
		t.Fatalf("Start = %v, want ErrNotInstalled", err)
	}
	for _, want := range []string{"sudo apt-get install redis-server", "brew install redis"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	// REDIS_URL and docker compose are the bot's ways round, not the sandbox's
	// or the tests': the bot adds them itself.
	for _, not := range []string{"REDIS_URL", "docker"} {
		if strings.Contains(redisserver.ErrNotInstalled.Error(), not) {
			t.Errorf("ErrNotInstalled says %q: %v", not, redisserver.ErrNotInstalled)
		}
	}
}

// TestUnwritableDir: a data directory that cannot be created or written to is
// a *DirError that gives the system's reason without repeating the path.
func TestUnwritableDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(dir, reason string) {
		t.Helper()
		s, err := redisserver.Start(context.Background(), redisserver.Options{Dir: dir})
		if err == nil {
			_ = s.Stop()
			t.Fatalf("Start(%s) succeeded", dir)
		}
		var dirErr *redisserver.DirError
		if !errors.As(err, &dirErr) || dirErr.Dir != dir || dirErr.Reason() != reason {
			t.Errorf("Start(%s) = %v (%#v), want a DirError for it with reason %q", dir, err, dirErr, reason)
		}
	}
	// Under a regular file: fails for root too.
	check(filepath.Join(file, "sub"), "not a directory")

	if os.Geteuid() == 0 {
		t.Skip("running as root, for whom a read-only folder is writable")
	}
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
	check(filepath.Join(ro, "new"), "permission denied") // cannot be created
	check(ro, "permission denied")                       // cannot hold the lock
}

func TestStartFailureQuotesTheLog(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	_, err = redisserver.Start(context.Background(), redisserver.Options{Dir: t.TempDir(), Port: port})
	if err == nil {
		t.Fatal("Start on a taken port succeeded")
	}
	if !strings.Contains(err.Error(), "Address already in use") {
		t.Errorf("error does not quote the server's log:\n%v", err)
	}
}

func TestStopAndDone(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := start(t, redisserver.Options{Dir: dir})
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", perm)
	}
	done := s.Done()
	select {
	case <-done:
		t.Fatal("Done closed while running")
	default:
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-done:
	default:
		t.Error("Done not closed after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if c, err := net.Dial("tcp", s.Addr()); err == nil {
		c.Close()
		t.Error("port still answers after Stop")
	}
	log, err := os.ReadFile(s.LogPath())
	if err != nil || !strings.Contains(string(log), "Ready to accept connections") {
		t.Errorf("log file %s: %v\n%s", s.LogPath(), err, log)
	}
}

func TestFixedPortAndLoopbackOnly(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	s := start(t, redisserver.Options{Port: port})
	if want := "127.0.0.1:" + strconv.Itoa(port); s.Addr() != want {
		t.Errorf("Addr = %s, want %s", s.Addr(), want)
	}
	if s.URL() != "redis://"+s.Addr()+"/0" {
		t.Errorf("URL = %s", s.URL())
	}
	cfg, err := client(t, s).ConfigGet(context.Background(), "bind").Result()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["bind"] != "127.0.0.1" {
		t.Errorf("bind = %q, want 127.0.0.1", cfg["bind"])
	}
}

// TestSecondServerOnOneDirIsRefused: a second server on a data directory in use
// is refused, saying so, instead of running on the same append-only file; once
// the first stops, the directory is free again.
func TestSecondServerOnOneDirIsRefused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	first, err := redisserver.Start(ctx, redisserver.Options{Dir: dir, AppendOnly: true})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	second, err := redisserver.Start(ctx, redisserver.Options{Dir: dir, AppendOnly: true})
	if err == nil {
		_ = second.Stop()
		_ = first.Stop()
		t.Fatal("a second server started on the same data directory")
	}
	if !errors.Is(err, redisserver.ErrDirInUse) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second Start: %v", err)
	}
	if err := first.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	again := start(t, redisserver.Options{Dir: dir, AppendOnly: true})
	if again.Dir() == "" {
		t.Error("no dir")
	}
}
