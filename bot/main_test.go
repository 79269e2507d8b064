package bot

import (
	"testing"

	"github.com/cellbot/cellbot/testenv"
)

func TestMain(m *testing.M) { testenv.RunWithRedis(m) }
