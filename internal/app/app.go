// Package app wires cellbot together from its settings: Redis (an existing one, or
// a managed local redis-server), the Telegram client, storage, delivery, the bot,
// the HTTP listener and the update source (long polling or webhook). It starts the
// background loops in one place and stops them in a fixed order.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cellbot/cellbot/bot"
	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/redisserver"
	"github.com/cellbot/cellbot/internal/server"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
)

// Options are what tests may change beyond the settings.
type Options struct {
	// KeyPrefix is the Redis key prefix, "cellbot" when empty.
	KeyPrefix string
	// Ready, when set, is called once the bot takes updates, with the HTTP address.
	Ready func(httpAddr string)
	// Now is the clock of the bot and the scheduler, time.Now when nil: tests and
	// the sandbox move it to bring reminders due without waiting.
	Now func() time.Time
	// Probe, when set, is called at the named steps of the scheduler and of
	// delivery (scheduler.Probe*, delivery.ProbeSent) with the item's or the
	// message's id: tests kill the process there.
	Probe func(point, id string)
	// LeaveSweep is how often leaving days and attachments' ends are applied
	// (an hour when zero): tests that move Now shorten it.
	LeaveSweep time.Duration
	// AnswerWithin is bot.Params.AnswerWithin: how long a button press waits
	// for its handler's answer before it is answered without a text.
	AnswerWithin time.Duration
}

// Shutdown budget after SIGTERM: updates in hand (polled or by webhook) get
// updateGrace, then messages being sent get sendGrace; with Redis's own stop the
// whole stays under 10 s.
const (
	updateGrace = 4 * time.Second
	sendGrace   = 3 * time.Second
)

// Run runs the bot until ctx is cancelled, then stops gracefully and returns nil.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts Options) error {
	rdb, stopRedis, err := openRedis(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer stopRedis()
	if err := waitRedis(ctx, rdb, logger); err != nil {
		return err
	}
	store := storage.New(rdb, opts.KeyPrefix)
	if err := store.LoadScripts(ctx); err != nil {
		// Not fatal: a script Redis does not know is sent with its first use.
		logger.Warn("could not load the Lua scripts into Redis ahead; they go with their first use", "err", err)
	}
	// Data migrations, before any update is handled; each is idempotent and safe
	// with several processes starting at once.
	if n, err := store.MigrateQueueLanes(ctx); err != nil {
		return fmt.Errorf("app: move queued messages into their chats' lanes: %w", err)
	} else if n > 0 {
		logger.Info("moved queued messages into their chats' lanes", "messages", n)
	}
	if n, err := store.MigrateNames(ctx); err != nil {
		return fmt.Errorf("app: migrate the names index: %w", err)
	} else if n > 0 {
		logger.Info("migrated the names index to name identities", "cells", n)
	}

	httpClient := &http.Client{Timeout: 75 * time.Second} // longer than the 50 s long poll
	tg, err := connectTelegram(ctx, cfg, httpClient, logger)
	if err != nil {
		return err
	}
	logger.Info("connected to Telegram", "bot", tg.Self().Username)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rdb.AddHook(newRedisErrorHook(reg))

	var b *bot.Bot
	var sched *scheduler.Scheduler
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	sender, err := delivery.NewSender(delivery.SenderParams{
		WaveNow:       now,
		Store:         store,
		Caller:        tg,
		Logger:        logger.With("loop", "delivery"),
		Registerer:    reg,
		Grace:         sendGrace,
		Cells:         store,
		PaidBroadcast: cfg.PaidBroadcast,
		OnUnreachable: func(ctx context.Context, rc storage.QueueRecipient) {
			b.Unreachable(ctx, rc.CellID, rc.MemberID)
		},
		Completed: func(ctx context.Context, id, purpose string, result storage.QueueResult) {
			sched.Delivered(ctx, id, purpose, result)
		},
		Wanted: func(ctx context.Context, e *storage.QueueEntry) bool {
			return sched.Wanted(ctx, e)
		},
		Probe: opts.Probe,
	})
	if err != nil {
		return fmt.Errorf("app: delivery: %w", err)
	}
	sched, err = scheduler.New(scheduler.Params{
		Store:      store,
		Delivery:   sender,
		Logger:     logger.With("loop", "scheduler"),
		Now:        now,
		Registerer: reg,
		Probe:      opts.Probe,
		Rate:       waveRate(cfg.PaidBroadcast),
		// The check-in QR's link opens this bot.
		BotUsername: tg.Self().Username,
	})
	if err != nil {
		return fmt.Errorf("app: scheduler: %w", err)
	}
	b = bot.New(bot.Params{
		Store:       store,
		Planner:     sched,
		Now:         now,
		Telegram:    sender.Direct(),
		Immediate:   sender.Immediate(),
		Backlog:     sender.DirectWithin(bot.BacklogMaxWait),
		Files:       tg,
		Delivery:    sender,
		Logger:      logger,
		BotUsername: tg.Self().Username,
		OwnerIDs:    cfg.OwnerIDs,
		TimeZone:    cfg.TimeZoneName,
		Lang:        cfg.Lang,
		// Tests that read the texts of press answers lengthen it.
		AnswerWithin: opts.AnswerWithin,
	})
	if err := b.RegisterCommands(ctx); err != nil {
		logger.Warn("register commands", "err", err)
	}

	webhookPath := ""
	if cfg.WebhookURL != "" {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil {
			return fmt.Errorf("app: webhook url: %w", err)
		}
		webhookPath = u.Path
		if webhookPath == "" {
			webhookPath = "/"
		}
	}
	handle := instrumentUpdates(reg, b.HandleUpdate)
	webhook := telegram.NewWebhook(telegram.WebhookParams{Secret: cfg.WebhookSecret, Handler: handle,
		Arrived: b.Arrived, Logger: logger.With("loop", "webhook"), Grace: updateGrace})
	srv, err := server.New(server.Params{
		Addr:        cfg.HTTPAddr,
		Health:      store,
		Telegram:    tg,
		Gatherer:    reg,
		WebhookPath: webhookPath,
		Webhook:     webhook,
		Logger:      logger,
	})
	if err != nil {
		return err
	}

	// Loops. Stop order: the update source first (no new updates; those in hand
	// finish, by webhook too, within updateGrace), then the HTTP listener, then
	// delivery (finishing messages in hand), and Redis last (deferred above).
	deliveryCtx, stopDelivery := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDelivery()
	var deliveryDone sync.WaitGroup
	deliveryDone.Go(func() {
		if err := sender.Run(deliveryCtx); err != nil {
			logger.Error("delivery stopped", "err", err)
		}
	})

	schedCtx, stopSched := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSched()
	var schedDone sync.WaitGroup
	schedDone.Go(func() {
		if err := sched.Run(schedCtx); err != nil {
			logger.Error("scheduler stopped", "err", err)
		}
	})
	schedDone.Go(func() {
		if err := sched.RunCounts(schedCtx); err != nil {
			logger.Error("live counts stopped", "err", err)
		}
	})

	var updates sync.WaitGroup
	if cfg.WebhookURL != "" {
		if err := telegram.SetWebhook(ctx, tg, cfg.WebhookURL, cfg.WebhookSecret); err != nil {
			stopSched()
			schedDone.Wait()
			stopDelivery()
			deliveryDone.Wait()
			return fmt.Errorf("app: set webhook: %w", err)
		}
		logger.Info("receiving updates by webhook", "path", webhookPath)
		updates.Go(func() {
			<-ctx.Done()
			webhook.Close()
		})
	} else {
		// One process polls at a time, under the poll lease; a fresh poller per
		// term, since a poller's state is its own term's.
		updates.Go(func() {
			runPolling(ctx, store, logger.With("loop", "poller"), func(ctx context.Context) {
				poller := telegram.NewPoller(telegram.PollerParams{Caller: tg, Handler: handle, Arrived: b.Arrived,
					Logger: logger.With("loop", "poller"), Grace: updateGrace})
				if err := poller.Run(ctx); err != nil {
					logger.Error("poller stopped", "err", err)
				}
			})
		})
		logger.Info("receiving updates by long polling")
	}
	// Join requests expire after 14 days even when nobody looks.
	var sweeper sync.WaitGroup
	sweeper.Go(func() { b.RunJoinSweeper(ctx, time.Hour) })
	// Links end on their leaving day, and attachments the day after their date.
	leaveSweep := cmp.Or(opts.LeaveSweep, time.Hour)
	sweeper.Go(func() { b.RunLeaveSweeper(ctx, leaveSweep) })
	var httpDone sync.WaitGroup
	httpDone.Go(func() {
		if err := srv.Run(ctx, updateGrace); err != nil {
			logger.Error("http server stopped", "err", err)
		}
	})
	logger.Info("cellbot is running", "http", srv.Addr())
	if opts.Ready != nil {
		opts.Ready(srv.Addr())
	}

	<-ctx.Done()
	logger.Info("stopping")
	updates.Wait()
	httpDone.Wait()
	// The scheduler hands its messages to delivery: it stops first.
	stopSched()
	schedDone.Wait()
	sweeper.Wait()
	stopDelivery()
	deliveryDone.Wait()
	logger.Info("stopped")
	return nil
}

// openRedis connects to REDIS_URL, or starts a managed redis-server with its AOF
// in CELLBOT_DATA_DIR when REDIS_URL is empty.
func openRedis(ctx context.Context, cfg *config.Config, logger *slog.Logger) (redis.UniversalClient, func(), error) {
	if rdb := cfg.NewRedisClient(); rdb != nil {
		return rdb, func() { _ = rdb.Close() }, nil
	}
	srv, err := redisserver.Start(ctx, redisserver.Options{Dir: cfg.DataDir, AppendOnly: true, Logger: logger.With("component", "redis-server")})
	if err != nil {
		return nil, nil, managedRedisError(cfg.DataDir, err)
	}
	logger.Info("started a local redis-server", "addr", srv.Addr(), "dir", cfg.DataDir)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	return rdb, func() {
		_ = rdb.Close()
		if err := srv.Stop(); err != nil {
			logger.Warn("stop local redis-server", "err", err)
		}
	}, nil
}

// problem is a start-up failure said as one sentence to whoever starts the bot,
// without the packages' prefixes: cmd/cellbot prints it after "cellbot cannot
// start: ". The cause stays for errors.Is and errors.As.
type problem struct {
	msg string
	err error
}

func (p problem) Error() string { return p.msg }
func (p problem) Unwrap() error { return p.err }

// managedRedisError says why the bot's own redis-server did not start: the
// data folder's problems and a missing redis-server as a sentence each.
func managedRedisError(dataDir string, err error) error {
	var dirErr *redisserver.DirError
	switch {
	case errors.As(err, &dirErr):
		dir := dataDir
		if dir != dirErr.Dir {
			dir += " (" + dirErr.Dir + ")"
		}
		return problem{fmt.Sprintf("%s=%s cannot be written to (%s): give a folder you may write to, or set %s",
			config.EnvDataDir, dir, dirErr.Reason(), config.EnvRedisURL), err}
	case errors.Is(err, redisserver.ErrNotInstalled):
		return problem{fmt.Sprintf("%s is empty, so cellbot runs its own redis-server, but %v, or set %s to a Redis you have, or run the bot with docker compose up",
			config.EnvRedisURL, redisserver.ErrNotInstalled, config.EnvRedisURL), err}
	case errors.Is(err, redisserver.ErrDirInUse):
		return problem{strings.TrimPrefix(err.Error(), "redisserver: "), err}
	}
	return fmt.Errorf("app: REDIS_URL is not set, so cellbot runs its own redis-server: %w", err)
}

// errFinal stops retryStart at once.
type errFinal struct{ error }

// retryStart calls try until it succeeds, backing off from first to at most max,
// so that a bot started before Redis or the network is up waits instead of
// crash-looping. The first failure is logged as an error with hint, a sentence
// saying what to check; later ones quietly, at info level. An errFinal, or ctx
// ending, stops it.
func retryStart(ctx context.Context, logger *slog.Logger, what, hint string, first, max time.Duration, try func() error) error {
	for backoff, failed := first, false; ; backoff = min(backoff*2, max) {
		err := try()
		var final errFinal
		switch {
		case err == nil:
			return nil
		case errors.As(err, &final):
			return final.error
		case ctx.Err() != nil:
			return fmt.Errorf("app: %s: %w", what, ctx.Err())
		}
		if !failed {
			logger.Error(hint+"; retrying until it answers", "err", err)
			failed = true
		} else {
			logger.Info(what+": still failing", "err", err, "retry_in", backoff.String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("app: %s: %w", what, ctx.Err())
		case <-time.After(backoff):
		}
	}
}

// waitRedis pings until Redis answers. Meanwhile go-redis's own pool-dial
// failures go to Debug (RedisLogger): the hint below says it once.
func waitRedis(ctx context.Context, rdb redis.UniversalClient, logger *slog.Logger) error {
	redisWaits.Add(1)
	defer redisWaits.Add(-1)
	hint := "cannot reach Redis at " + strings.Join(redisAddrs(rdb), ", ") + ": check that it runs, or REDIS_URL"
	return retryStart(ctx, logger, "waiting for redis", hint, 500*time.Millisecond, 30*time.Second, func() error {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		return rdb.Ping(pctx).Err()
	})
}

// connectTelegram calls getMe until it answers; a rejected token is final.
func connectTelegram(ctx context.Context, cfg *config.Config, hc *http.Client, logger *slog.Logger) (*telegram.Client, error) {
	var tg *telegram.Client
	host := "the Bot API"
	if u, err := url.Parse(strings.ReplaceAll(cfg.APIEndpoint, "%s", "x")); err == nil && u.Host != "" {
		host = u.Host
	}
	hint := "cannot reach " + host + ": check the connection or TELEGRAM_API_ENDPOINT"
	err := retryStart(ctx, logger, "connecting to Telegram", hint, time.Second, time.Minute, func() error {
		var err error
		tg, err = telegram.New(ctx, cfg.Token, cfg.APIEndpoint, hc)
		var apiErr *telegram.APIError
		if errors.As(err, &apiErr) && (apiErr.Code == http.StatusUnauthorized || apiErr.Code == http.StatusNotFound) {
			return errFinal{problem{fmt.Sprintf("Telegram rejected TELEGRAM_BOT_TOKEN (%s): check the token from @BotFather", apiErr.Description), err}}
		}
		return err
	})
	return tg, err
}

// waveRate is the rate the planner gives reminder waves: its share of the
// overall limit the sender keeps, which paid broadcasts raise.
func waveRate(paid bool) float64 {
	l := storage.DefaultRateLimits()
	if paid {
		l = storage.PaidRateLimits()
	}
	return scheduler.WaveShare * float64(time.Second) / float64(l.Global.Every)
}
