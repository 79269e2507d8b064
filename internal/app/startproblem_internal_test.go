package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/redisserver"
)

// TestDataDirProblemIsOneSentence: a CELLBOT_DATA_DIR the bot cannot write to
// is said in one sentence that names the setting once, gives the reason and
// what to do, without the packages' prefixes.
func TestDataDirProblemIsOneSentence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(dir, reason string) {
		t.Helper()
		_, stop, err := openRedis(context.Background(), &config.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
		if err == nil {
			stop()
			t.Fatalf("openRedis(%s) succeeded", dir)
		}
		want := "CELLBOT_DATA_DIR=" + dir + " cannot be written to (" + reason + "): give a folder you may write to, or set REDIS_URL"
		if err.Error() != want {
			t.Errorf("openRedis(%s):\n got %s\nwant %s", dir, err, want)
		}
		var dirErr *redisserver.DirError
		if !errors.As(err, &dirErr) {
			t.Errorf("the cause is lost: %#v", err)
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

// TestRedisServerMissingIsOneSentence: without redis-server the bot says how to
// install it, and its ways round it, in a sentence without package prefixes.
func TestRedisServerMissingIsOneSentence(t *testing.T) {
	_, err := redisserver.Start(context.Background(), redisserver.Options{
		Dir:    t.TempDir(),
		Binary: filepath.Join(t.TempDir(), "no-such-redis-server"),
	})
	err = managedRedisError(t.TempDir(), err)
	msg := err.Error()
	for _, want := range []string{"sudo apt-get install redis-server", "brew install redis", "set REDIS_URL", "docker compose up"} {
		if !strings.Contains(msg, want) {
			t.Errorf("does not say %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "redisserver:") || strings.Contains(msg, "app:") || !errors.Is(err, redisserver.ErrNotInstalled) {
		t.Errorf("message %q, cause %#v", msg, err)
	}
}
