// Package testenv is test support that starts real things: a redis-server per test
// package (RunWithRedis, RedisEnv), dedicated servers for tests that restart Redis
// (StartRedis), and a TCP proxy a test can cut under a running program (StartProxy).
//
// Tests never skip because redis-server is missing: they fail and say how to get it
// (`make test` installs it).
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/redisserver"
)

const startTimeout = 30 * time.Second

// missingHint is what a test run without redis-server says.
const missingHint = "testenv: these tests need redis-server. Run `make test`, which installs it, " +
	"or install it yourself (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)."

// packageServer is the test package's Redis, started by RunWithRedis. Package state is
// acceptable here: this is test support, and TestMain runs once per test binary.
var packageServer *redisserver.Server

// prefixes numbers the key prefixes RedisEnv hands out.
var prefixes atomic.Int64

// RunWithRedis is for TestMain: it starts one redis-server for the test package in a
// temporary directory on a free port, runs the tests, stops the server and exits with
// the tests' code. When redis-server is missing, it says how to get it and exits 1.
//
//	func TestMain(m *testing.M) { testenv.RunWithRedis(m) }
func RunWithRedis(m *testing.M) {
	os.Exit(runWithRedis(m))
}

func runWithRedis(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cellbot-redis-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: make a directory for redis-server: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	srv, err := redisserver.Start(ctx, redisserver.Options{Dir: filepath.Join(dir, "redis")})
	cancel()
	if err != nil {
		if errors.Is(err, redisserver.ErrNotInstalled) {
			fmt.Fprintf(os.Stderr, "%s\n(%v)\n", missingHint, err)
		} else {
			fmt.Fprintf(os.Stderr, "testenv: start redis-server: %v\n", err)
		}
		return 1
	}
	packageServer = srv
	code := m.Run()
	packageServer = nil
	if err := srv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stop redis-server: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// RedisEnv returns a client of the package's redis-server (see RunWithRedis) and a key
// prefix, such as "t42:cellbot", that no other call in this test binary gets. A test
// that keeps its keys under its prefix (the storage layer takes one) can run in parallel
// with the others; nothing is flushed. The client is closed when the test ends.
func RedisEnv(t testing.TB) (*redis.Client, string) {
	t.Helper()
	if packageServer == nil {
		t.Fatal("testenv: no package redis-server: call testenv.RunWithRedis(m) from this package's TestMain")
	}
	c := redis.NewClient(&redis.Options{Addr: packageServer.Addr()})
	t.Cleanup(func() { c.Close() })
	return c, fmt.Sprintf("t%d:cellbot", prefixes.Add(1))
}

// RedisAddr returns host:port of the package's redis-server (see RunWithRedis), for code
// that makes its own client, such as the bot started with REDIS_URL.
func RedisAddr(t testing.TB) string {
	t.Helper()
	if packageServer == nil {
		t.Fatal("testenv: no package redis-server: call testenv.RunWithRedis(m) from this package's TestMain")
	}
	return packageServer.Addr()
}

// StartRedis starts a redis-server for this test alone, with the append-only file on,
// in a temporary directory on a free port, and stops it when the test ends. Use it for
// tests that stop or restart Redis (Server.Restart keeps the data).
func StartRedis(t testing.TB) *redisserver.Server {
	t.Helper()
	dir := t.TempDir() // registered first, so removed after the server has stopped
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := redisserver.Start(ctx, redisserver.Options{Dir: filepath.Join(dir, "redis"), AppendOnly: true})
	if errors.Is(err, redisserver.ErrNotInstalled) {
		t.Fatalf("%s\n(%v)", missingHint, err)
	}
	if err != nil {
		t.Fatalf("testenv: start redis-server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("testenv: stop redis-server: %v", err)
		}
	})
	return srv
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process
// may take it before the caller binds it; prefer listening on port 0 where you can.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RedisInfo reads one integer field of INFO section (used_memory of memory,
// total_commands_processed of stats…), for benchmarks that report what Redis
// did or holds.
func RedisInfo(t testing.TB, rdb redis.UniversalClient, section, field string) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO %s %s: %q", section, field, v)
			}
			return n
		}
	}
	t.Fatalf("no %s in INFO %s", field, section)
	return 0
}
