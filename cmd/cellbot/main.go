// Command cellbot runs the cellbot Telegram bot: meeting notices and reminders,
// broadcasts, RSVPs and attendance for party cells, with all state in Redis.
//
// Settings come from the environment (see README.md and PRODUCT.md):
//
//	TELEGRAM_BOT_TOKEN=123:abc go run ./cmd/cellbot
//
// Without REDIS_URL it starts its own redis-server with its data in ./data.
// SIGINT or SIGTERM stops it gracefully.
//
// `cellbot sandbox [-addr 127.0.0.1:8090]` runs it against a Bot API test server
// with a demo cell instead, and serves a page to try it in a browser.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cellbot/cellbot/internal/app"
	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/sandbox"
	"github.com/redis/go-redis/v9"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "sandbox":
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := sandbox.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		}
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// go-redis logs pool and reconnect trouble through one package-level logger,
	// shared by every client in the process; so it is set here, once, and not in
	// app.Run, which tests call many times side by side.
	redis.SetLogger(app.RedisLogger(logger))
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cellbot cannot start:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, logger, app.Options{}); err != nil && ctx.Err() == nil {
		// Run fails only while starting: say why in a sentence, as for the
		// settings above, rather than as one more JSON line.
		fmt.Fprintf(os.Stderr, "cellbot cannot start: %v\n", err)
		os.Exit(1)
	}
}
