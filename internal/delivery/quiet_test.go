package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// fakeCells serves cells from a map and counts the reads.
type fakeCells struct {
	mu    sync.Mutex
	cells map[int64]cell.Cell
	reads int
	err   error
}

func (f *fakeCells) Cell(_ context.Context, id int64) (cell.Cell, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return cell.Cell{}, f.err
	}
	c, ok := f.cells[id]
	if !ok {
		return cell.Cell{}, errors.New("not found")
	}
	return c, nil
}

func (f *fakeCells) set(c cell.Cell) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cells[c.ID] = c
}

func TestQuietHoursCache(t *testing.T) {
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	// 22:00 in Hồ Chí Minh City (15:00 UTC): inside 21:30–06:00 there, not in UTC.
	now := time.Date(2025, 4, 3, 22, 0, 0, 0, hcm)
	clock := func() time.Time { return now }
	cells := &fakeCells{cells: map[int64]cell.Cell{
		1: {ID: 1, TimeZone: "Asia/Ho_Chi_Minh", Quiet: cell.DefaultQuiet},
		2: {ID: 2, TimeZone: "Asia/Nowhere", Quiet: cell.DefaultQuiet},
	}}
	var logs bytes.Buffer
	q := newQuietHours(cells, clock, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()

	until, held := q.until(ctx, 1)
	if want := time.Date(2025, 4, 4, 6, 0, 0, 0, hcm); !held || !until.Equal(want) {
		t.Fatalf("until = %v, %v; want %v, true", until, held, want)
	}

	t.Run("cached for quietTTL", func(t *testing.T) {
		cells.set(cell.Cell{ID: 1, TimeZone: "Asia/Ho_Chi_Minh"}) // quiet hours turned off
		reads := cells.reads
		if _, held := q.until(ctx, 1); !held || cells.reads != reads {
			t.Errorf("within the TTL: held %v after %d reads; want the cached quiet hours, no read", held, cells.reads-reads)
		}
		now = now.Add(quietTTL)
		if _, held := q.until(ctx, 1); held || cells.reads != reads+1 {
			t.Errorf("after the TTL: held %v after %d reads; want the new settings, one read", held, cells.reads-reads)
		}
	})

	t.Run("a cell that cannot be read", func(t *testing.T) {
		if _, held := q.until(ctx, 3); held {
			t.Error("an unknown cell is held; want sent")
		}
		if _, held := q.until(ctx, 0); held {
			t.Error("a message of no cell is held")
		}
	})

	t.Run("stale settings beat none when Redis fails", func(t *testing.T) {
		cells.set(cell.Cell{ID: 1, TimeZone: "Asia/Ho_Chi_Minh", Quiet: cell.DefaultQuiet})
		now = now.Add(quietTTL)
		if _, held := q.until(ctx, 1); !held {
			t.Fatal("not held")
		}
		cells.err = errors.New("redis down")
		defer func() { cells.err = nil }()
		now = now.Add(quietTTL)
		if _, held := q.until(ctx, 1); !held {
			t.Error("Redis failing: the cached quiet hours were dropped")
		}
	})

	t.Run("a time zone that does not load is logged once", func(t *testing.T) {
		logs.Reset()
		// 15:00 UTC is outside 21:30–06:00 in UTC.
		if _, held := q.until(ctx, 2); held {
			t.Error("held; want the quiet hours taken in UTC")
		}
		now = now.Add(quietTTL)
		q.until(ctx, 2)
		if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "Asia/Nowhere") {
			t.Errorf("logged %d errors, want 1 naming the time zone:\n%s", n, logs.String())
		}
	})
}
