package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
)

// Cells gives a cell's settings; *storage.Store implements it. The Sender reads
// a cell's quiet hours and time zone through it (see SenderParams.Cells).
type Cells interface {
	Cell(ctx context.Context, id int64) (cell.Cell, error)
}

// quietTTL is how long a cell's quiet hours are reused before they are read again:
// a change by /quiet reaches delivery within this time, and a broadcast to a
// thousand members reads the cell a few times instead of a thousand.
const quietTTL = 30 * time.Second

// quietHours answers whether a cell is in its quiet hours, with a cache: the quiet
// hours are read again after quietTTL, the time zone is loaded once per cell (and
// again only if its name changed). Workers call it concurrently.
type quietHours struct {
	cells Cells
	now   func() time.Time
	log   *slog.Logger

	mu sync.Mutex
	m  map[int64]*cellQuiet
}

// cellQuiet is what is known of one cell.
type cellQuiet struct {
	quiet   cell.QuietHours
	tzName  string
	loc     *time.Location // nil: not loaded yet
	fetched time.Time
}

func newQuietHours(cells Cells, now func() time.Time, log *slog.Logger) *quietHours {
	return &quietHours{cells: cells, now: now, log: log, m: map[int64]*cellQuiet{}}
}

// until returns the end of the cell's quiet hours and true when the cell is in
// them now. When the cell cannot be read and nothing is cached, it says no:
// sending in doubt beats holding forever, and the broadcast was checked when it
// was queued. A cell whose time zone fails to load is logged as an error, once,
// and its quiet hours are taken in UTC.
func (q *quietHours) until(ctx context.Context, cellID int64) (time.Time, bool) {
	if cellID == 0 {
		return time.Time{}, false
	}
	now := q.now()
	q.mu.Lock()
	cq := q.m[cellID]
	fresh := cq != nil && now.Sub(cq.fetched) < quietTTL
	q.mu.Unlock()
	if !fresh {
		cq = q.refresh(ctx, cellID, now)
		if cq == nil {
			return time.Time{}, false
		}
	}
	return cq.quiet.Until(now.In(cq.loc))
}

// refresh reads the cell and returns its entry, nil when it could not be read and
// nothing was cached. Two workers may read the same cell at once; both store the
// same settings.
func (q *quietHours) refresh(ctx context.Context, cellID int64, now time.Time) *cellQuiet {
	c, err := q.cells.Cell(ctx, cellID)
	q.mu.Lock()
	defer q.mu.Unlock()
	old := q.m[cellID]
	if err != nil {
		q.log.Warn("delivery: quiet hours of cell", "cell", cellID, "err", err)
		return old
	}
	cq := &cellQuiet{quiet: c.Quiet, tzName: c.TimeZone, fetched: now}
	if old != nil && old.tzName == c.TimeZone {
		cq.loc = old.loc
	} else {
		loc, err := c.LoadLocation()
		if err != nil {
			q.log.Error("delivery: cell's time zone does not load; its quiet hours are taken in UTC",
				"cell", cellID, "time_zone", c.TimeZone, "err", err)
			loc = time.UTC
		}
		cq.loc = loc
	}
	q.m[cellID] = cq
	return cq
}
