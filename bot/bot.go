// Package bot turns Telegram updates into actions on a cell: the middleware every
// update goes through (recovery, time limit, handled-once, the actor's language,
// cell and role), the routing table of commands, buttons and dialogue steps, and
// one handler file per concept (cells.go, roster.go, broadcast.go, help.go).
package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Downloader fetches a file's content by file_id.
type Downloader interface {
	Download(ctx context.Context, fileID string, maxBytes int64) ([]byte, error)
}

// Deliverer queues messages (the delivery package): jobs to many members, and
// single replies that could not go at once.
type Deliverer interface {
	StartJob(ctx context.Context, job storage.QueueJob, msgs []delivery.Message) (int, error)
	Enqueue(ctx context.Context, msgs ...delivery.Message) (int, error)
}

// Params are the bot's dependencies.
type Params struct {
	Store    *storage.Store
	Telegram telegram.Caller // immediate replies and edits, within the rate limits
	Files    Downloader
	Delivery Deliverer
	Planner  Planner // meetings' notices and reminders
	Logger   *slog.Logger
	Now      func() time.Time

	BotUsername string
	OwnerIDs    []int64
	TimeZone    string // of new cells
	Lang        string // default language

	// Flood is the per-user update limit; zero: 20 updates in 10 s, then a
	// minute ignored, as users are told. Benchmarks that send one user's
	// updates in a loop raise it.
	Flood storage.FloodLimit
}

// Bot handles updates.
type Bot struct {
	p       Params
	routes  routes
	presses presses
	ignored ignoredUsers
}

// New builds a Bot.
func New(p Params) *Bot {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Lang == "" {
		p.Lang = texts.VI
	}
	if p.TimeZone == "" {
		p.TimeZone = "Asia/Ho_Chi_Minh"
	}
	if p.Flood == (storage.FloodLimit{}) {
		p.Flood = storage.FloodLimit{Updates: floodUpdates, Window: floodWindow, Mute: floodMute}
	}
	b := &Bot{p: p}
	b.routes = b.newRoutes()
	return b
}

// Timeouts of one update.
const (
	updateTimeout = 30 * time.Second
	// updateLease is the claim of an update being handled, renewed every third
	// of it: after a crash the update is taken up again within it.
	updateLease = 3 * time.Second
	updateKeep  = 72 * time.Hour
)

// anonymousAdmin is the account Telegram shows as the sender of an anonymous
// group admin's messages.
const anonymousAdmin = "GroupAnonymousBot"

// errRetry marks a failure that should make Telegram deliver the update again.
var errRetry = errors.New("retry later")
