package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/redisserver"
)

// clusterMasters is how many masters StartCluster runs: Redis Cluster's minimum.
const clusterMasters = 3

// missingCLIHint is what a cluster test run without redis-cli says.
const missingCLIHint = "testenv: the Redis Cluster tests need redis-cli to create the cluster. Run `make test`, " +
	"which installs it, or install it yourself (Debian/Ubuntu: sudo apt-get install redis-tools; macOS: brew install redis)."

// Cluster is a three-master Redis Cluster on 127.0.0.1, started by StartCluster.
type Cluster struct {
	servers []*redisserver.Server
}

// Addrs returns the masters' host:port.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.servers))
	for i, s := range c.servers {
		addrs[i] = s.Addr()
	}
	return addrs
}

// URL returns the cluster as a REDIS_URL: the masters' redis:// addresses,
// comma-separated, which config.Load turns into a cluster client.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.servers))
	for i, s := range c.servers {
		urls[i] = "redis://" + s.Addr()
	}
	return strings.Join(urls, ",")
}

// Client returns a cluster client of c, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { cc.Close() })
	return cc
}

// StartCluster starts a Redis Cluster of three masters and no replicas for this test
// alone: three redis-servers with cluster-enabled on free ports, each in its own
// temporary directory, joined with `redis-cli --cluster create`. It returns once every
// master reports cluster_state:ok, and stops the servers when the test ends. Without
// redis-server or redis-cli, the test fails and says how to get them.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("%s\n(%v)", missingCLIHint, err)
	}
	dir := t.TempDir() // registered first, so removed after the servers have stopped
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	c := &Cluster{}
	for i := range clusterMasters {
		srv := startClusterNode(ctx, t, filepath.Join(dir, fmt.Sprintf("node%d", i)))
		t.Cleanup(func() {
			if err := srv.Stop(); err != nil {
				t.Errorf("testenv: stop cluster node %s: %v", srv.Addr(), err)
			}
		})
		c.servers = append(c.servers, srv)
	}

	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	cmd := exec.CommandContext(ctx, cli, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out.String())
	}
	if err := c.waitOK(ctx); err != nil {
		t.Fatalf("testenv: %v\nredis-cli said:\n%s", err, out.String())
	}
	return c
}

// waitOK waits until every master says cluster_state:ok and knows all the others.
func (c *Cluster) waitOK(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, s := range c.servers {
		rc := redis.NewClient(&redis.Options{Addr: s.Addr()})
		var last string
		for {
			info, err := rc.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", clusterMasters)) {
				break
			}
			last = fmt.Sprint(info, err)
			select {
			case <-ctx.Done():
				rc.Close()
				return fmt.Errorf("cluster node %s not ready within %s: %s", s.Addr(), startTimeout, last)
			case <-tick.C:
			}
		}
		rc.Close()
	}
	return nil
}

// clusterBusOffset is how far above its port a cluster node listens for the
// other nodes (Redis's cluster bus).
const clusterBusOffset = 10000

// startClusterNode starts one cluster-enabled redis-server in dir. Its port must
// leave room for the bus port above it (ephemeral ports go up to 60999, and
// Redis refuses a port whose bus port would pass 65535), and both must be free:
// a port is picked for that, and picked again when another process took it first.
func startClusterNode(ctx context.Context, t testing.TB, dir string) *redisserver.Server {
	t.Helper()
	var err error
	for range 5 {
		var port int
		if port, err = clusterPort(); err != nil {
			continue
		}
		var srv *redisserver.Server
		srv, err = redisserver.Start(ctx, redisserver.Options{
			Dir:  dir,
			Port: port,
			// The node's cluster state file goes in its own directory (--dir).
			ExtraArgs: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "5000"},
		})
		if errors.Is(err, redisserver.ErrNotInstalled) {
			t.Fatalf("%s\n(%v)", missingHint, err)
		}
		if err == nil {
			return srv
		}
		if ctx.Err() != nil {
			break
		}
	}
	t.Fatalf("testenv: start a cluster node: %v", err)
	return nil
}

// clusterPort returns a port P on 127.0.0.1 such that P and P+clusterBusOffset
// were both free a moment ago.
func clusterPort() (int, error) {
	for range 200 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port+clusterBusOffset > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+clusterBusOffset))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return port, nil
	}
	return 0, errors.New("no free port with a free cluster bus port above it")
}
