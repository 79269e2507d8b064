package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/storage"
)

// CellCommand runs `cellbot cell export <id>` (verb "export": the cell as JSON on
// out) and `cellbot cell import <file>` (verb "import": the file, or in when it is
// "-"), against the Redis the settings name (storage.CellExport documents the
// format). Without REDIS_URL it starts the bot's own redis-server on DataDir,
// which fails while the bot runs there: stop the bot first.
func CellCommand(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts Options, verb, arg string, in io.Reader, out io.Writer) error {
	var id int64
	var data []byte
	switch verb {
	case "export":
		var err error
		if id, err = strconv.ParseInt(arg, 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("%q is not a cell id (a whole number above 0)", arg)
		}
	case "import":
		var err error
		if arg == "-" {
			data, err = io.ReadAll(in)
		} else {
			data, err = os.ReadFile(arg)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", arg, err)
		}
	default:
		return fmt.Errorf("unknown verb %q: export or import", verb)
	}

	rdb, stopRedis, err := openRedis(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer stopRedis()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("cannot reach Redis: %w (check REDIS_URL)", err)
	}
	store := storage.New(rdb, opts.KeyPrefix)
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}

	if verb == "export" {
		e, err := store.ExportCell(ctx, id, now())
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	var e storage.CellExport
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Errorf("%s is not a cell export: %w", arg, err)
	}
	if err := store.ImportCell(ctx, &e); err != nil {
		return err
	}
	// The scheduler plans the cell's recurring meeting (and its notice and
	// reminders) again from now; its items were not part of the export.
	if sc, err := store.Schedule(ctx, e.CellID); err == nil && sc.Cron != "" {
		if err := store.RescheduleDue(ctx, storage.DueItem{Kind: storage.DuePlan, CellID: e.CellID, Version: sc.Version, At: now()}); err != nil {
			return fmt.Errorf("imported, but planning its meetings failed (run /schedule again): %w", err)
		}
	}
	logger.Info("imported cell", "cell", e.CellID, "members", len(e.Members), "meetings", len(e.Meetings))
	return nil
}
