package scheduler_test

import (
	"testing"

	"github.com/cellbot/cellbot/internal/testenv"
)

// TestMain starts one redis-server for the package; each test keeps its keys
// under a prefix of its own.
func TestMain(m *testing.M) { testenv.RunWithRedis(m) }
