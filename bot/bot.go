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

// BacklogMaxWait is how long a reply waits for a slot while more of its chat's
// updates wait behind it: a moment for the overall limit's next slot (33.5 ms
// apart), which two replies in a row always wait for, never for the chat's
// (1.1 s in a private chat, 3.2 s in a group), which would hold the chat's
// later updates as long.
const BacklogMaxWait = 250 * time.Millisecond

// Params are the bot's dependencies.
type Params struct {
	Store    *storage.Store
	Telegram telegram.Caller // immediate replies and edits, within the rate limits
	// Immediate is a Caller like Telegram that never waits for a rate-limit
	// slot (delivery.Sender.Immediate): a button press's calls queue instead of
	// holding its chat's later presses. Nil: Telegram.
	Immediate telegram.Caller
	// Backlog is a Caller like Telegram that waits only BacklogMaxWait for a
	// slot (delivery.Sender.DirectWithin): for a reply while more of its
	// chat's updates wait behind it. Nil: Telegram.
	Backlog  telegram.Caller
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
	// AnswerWithin is how long a button press waits for its handler's own
	// answer, which may carry a text, before it is answered without one;
	// zero: answerWithin. Tests that read the answers' texts on a loaded
	// machine lengthen it.
	AnswerWithin time.Duration
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
	if p.AnswerWithin <= 0 {
		p.AnswerWithin = answerWithin
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
