package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunWithRedis(m) }

func TestRedisEnvGivesEachTestItsOwnPrefix(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c, prefix := testenv.RedisEnv(t)
			if !strings.HasSuffix(prefix, ":cellbot") {
				t.Errorf("prefix %q does not end in :cellbot", prefix)
			}
			mu.Lock()
			if seen[prefix] {
				t.Errorf("prefix %q handed out twice", prefix)
			}
			seen[prefix] = true
			mu.Unlock()

			key := prefix + ":counter"
			for range 10 {
				if err := c.Incr(ctx, key).Err(); err != nil {
					t.Fatalf("INCR: %v", err)
				}
			}
			if n, err := c.Get(ctx, key).Int(); err != nil || n != 10 {
				t.Errorf("counter = %d, %v; want 10 (another test wrote under this prefix?)", n, err)
			}
		})
	}
}

func TestRedisAddrIsThePackageServer(t *testing.T) {
	c, _ := testenv.RedisEnv(t)
	if got := c.Options().Addr; got != testenv.RedisAddr(t) {
		t.Errorf("client address %s, RedisAddr %s", got, testenv.RedisAddr(t))
	}
}

func TestStartRedisKeepsDataAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	if srv.Addr() == testenv.RedisAddr(t) {
		t.Fatal("StartRedis returned the package server")
	}
	own := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer own.Close()
	if err := own.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := own.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("GET after Restart = %q, %v; want v", v, err)
	}
}

func TestFreePort(t *testing.T) {
	port := testenv.FreePort(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("FreePort gave %d, which cannot be bound: %v", port, err)
	}
	l.Close()
}

// TestMissingRedisFailsLoudly runs this test binary again with an empty PATH: its
// TestMain must fail, saying how to get redis-server, rather than skip.
func TestMissingRedisFailsLoudly(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("test binary without redis-server: %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{"make test", "apt-get install redis-server"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := testenv.StartCluster(t)
	if n := len(cl.Addrs()); n != 3 {
		t.Fatalf("%d masters, want 3", n)
	}
	for _, a := range cl.Addrs() {
		_, p, _ := net.SplitHostPort(a)
		if port, _ := strconv.Atoi(p); port <= 0 || port+10000 > 65535 {
			t.Errorf("node on %s: no room for its cluster bus port", a)
		}
	}
	c := cl.Client(t)
	// Keys of many slots, so that every master holds some.
	for i := range 30 {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d: %v", i, err)
		}
	}
	var masters atomic.Int32 // ForEachMaster calls in parallel
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if n > 0 {
			masters.Add(1)
		}
		return err
	})
	if err != nil || masters.Load() != 3 {
		t.Errorf("keys on %d masters (%v), want 3", masters.Load(), err)
	}
	// One script over keys of two slots is refused: what storage must never do.
	err = c.Eval(ctx, "return redis.call('MSET', KEYS[1], 1, KEYS[2], 2)", []string{"a", "b"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("a script over two slots: %v, want CROSSSLOT", err)
	}
}
