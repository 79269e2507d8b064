package delivery_test

import (
	"os"
	"testing"

	"github.com/cellbot/cellbot/internal/testenv"
)

// TestMain starts one redis-server for the package, unless this binary was
// started as a child sender by TestDeliveryCrash: that child uses the parent's.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(m.Run())
	}
	testenv.RunWithRedis(m)
}
