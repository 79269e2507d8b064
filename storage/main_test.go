package storage_test

import (
	"testing"

	"github.com/cellbot/cellbot/internal/testenv"
)

// TestMain starts one redis-server for the package; each test takes its own key
// prefix from testenv.RedisEnv.
func TestMain(m *testing.M) { testenv.RunWithRedis(m) }
