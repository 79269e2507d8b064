package app_test

import (
	"flag"
	"runtime"
	"strconv"
	"testing"

	"github.com/cellbot/cellbot/internal/testenv"
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
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(e2eParallel, runtime.GOMAXPROCS(0))))
	}
	testenv.RunWithRedis(m)
}
