package app_test

import (
	"testing"

	"github.com/cellbot/cellbot/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunWithRedis(m) }
