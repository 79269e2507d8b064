package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/storage"
)

// TestCellExportImportCommands: `cellbot cell export <id>` of a cell set up through
// the bot, Redis emptied, `cellbot cell import -` of the file, and the bot serves
// the cell again; a second export equals the first.
func TestCellExportImportCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.useOwnRedis()
	b := e.start()
	s := seedCell(t, e, names(4), nil)
	s.secretary.Send("/broadcast Trước khi chuyển.")
	s.secretary.WaitMessage("Đã gửi xong: 3/3")
	b.stop()

	run := func(stdin []byte, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(binary(t), args...)
		cmd.Env = os.Environ()
		for k, v := range e.vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdin = bytes.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("cellbot %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.Bytes()
	}
	id := strconv.FormatInt(s.cell.ID, 10)
	first := run(nil, "cell", "export", id)

	opt, err := redis.ParseURL(e.vars["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	run(first, "cell", "import", "-")
	again := run(nil, "cell", "export", id)

	var a, c storage.CellExport
	if err := json.Unmarshal(first, &a); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, first)
	}
	if err := json.Unmarshal(again, &c); err != nil {
		t.Fatal(err)
	}
	a.Exported = c.Exported // the time of the export differs
	if diff := cmp.Diff(a, c); diff != "" {
		t.Errorf("export after import differs (-before +after):\n%s", diff)
	}
	if a.Format != storage.BackupFormat || len(a.Members) != 4 {
		t.Errorf("export: format %d, %d members", a.Format, len(a.Members))
	}

	// The bot, started again on the imported data, knows the cell and its members.
	e.start()
	s.secretary.Send("/broadcast Sau khi chuyển.")
	e.srv.WaitUntil(func() bool {
		for _, u := range s.members {
			if u != s.secretary && countContaining(u.Messages(), "Sau khi chuyển.") != 1 {
				return false
			}
		}
		return true
	})
}
