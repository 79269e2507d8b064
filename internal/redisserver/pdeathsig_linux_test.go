package redisserver_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/redisserver"
)

const helperEnv = "REDISSERVER_TEST_HELPER_DIR"

// TestHelperProcess is not a test: TestServerDiesWithParent runs the test binary with
// it, as a parent that starts a server and is then killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	s, err := redisserver.Start(context.Background(), redisserver.Options{Dir: dir})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(s.Addr())
	// Hold on until killed: stdin is a pipe that the test never closes.
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func TestServerDiesWithParent(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+filepath.Join(t.TempDir(), "redis"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "error:") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper: %q, %v", line, err)
	}
	addr := strings.TrimSpace(line)

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return // the server is gone
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("redis-server at %s still runs after its parent was killed", addr)
		}
		<-tick.C
	}
}
