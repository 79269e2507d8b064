package app_test

import (
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// useCluster points the env at a Redis Cluster of its own: REDIS_URL lists the
// three masters, comma-separated, as an operator would write it.
func (e *env) useCluster() {
	cl := testenv.StartCluster(e.t)
	e.store, e.prefix = storage.New(cl.Client(e.t), ""), "cellbot"
	e.vars["REDIS_URL"] = cl.URL()
}

// TestBroadcastOnRedisCluster: with REDIS_URL naming a three-master Redis Cluster,
// a cell is set up, its roster imported, and a broadcast reaches every member
// once, with the report: every script the bot runs on the way touches one slot.
func TestBroadcastOnRedisCluster(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useCluster()
	e.start()
	roster := names(8)
	s := seedCell(t, e, roster, nil)

	const text = "Họp chi bộ lúc 14:00 tại nhà văn hóa."
	s.secretary.Send("/broadcast " + text)
	e.srv.WaitUntil(func() bool {
		for _, m := range s.secretary.Messages() {
			if strings.HasPrefix(m.Text, "✅ Đã gửi xong: 7/7") {
				return true
			}
		}
		return false
	})
	for name, u := range s.members {
		want := 1
		if u == s.secretary {
			want = 0
		}
		if got := countContaining(u.Messages(), text); got != want {
			t.Errorf("%s got the broadcast %d times, want %d", name, got, want)
		}
	}
}
