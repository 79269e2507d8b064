// Command cellbot runs the cellbot Telegram bot: meeting notices and reminders,
// broadcasts, RSVPs and attendance for party cells, with all state in Redis.
//
// Settings come from the environment (see README.md, "Settings"):
//
//	TELEGRAM_BOT_TOKEN=123:abc go run ./cmd/cellbot
//
// Without REDIS_URL it starts its own redis-server with its data in ./data.
// SIGINT or SIGTERM stops it gracefully.
//
// Subcommands:
//
//	cellbot sandbox [-addr 127.0.0.1:8090]   the bot against a Bot API test server with a demo cell, and a page to try it in a browser
//	cellbot healthcheck          exit 0 when the running bot's /healthz answers on CELLBOT_HTTP_ADDR
//	cellbot cell export <id>     write one cell's data as JSON to standard output
//	cellbot cell import <file>   load a cell exported so ("-" for standard input)
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
	"github.com/cellbot/cellbot/internal/server"
	"github.com/redis/go-redis/v9"
)

const usage = `usage:
  cellbot                      run the bot (settings from the environment)
  cellbot help                 this help
  cellbot sandbox [-addr 127.0.0.1:8090]
                               try the bot in a browser, no token needed
  cellbot healthcheck          exit 0 when the running bot's /healthz answers on CELLBOT_HTTP_ADDR
  cellbot cell export <id>     write cell <id> as JSON to standard output
  cellbot cell import <file>   load a cell from an export ("-" for standard input)`

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
	logger := newLogger()
	// go-redis logs pool and reconnect trouble through one package-level logger,
	// shared by every client in the process; so it is set here, once, and not in
	// app.Run, which tests call many times side by side.
	redis.SetLogger(app.RedisLogger(logger))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	args := os.Args[1:]
	switch {
	case len(args) == 0:
	case len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		fmt.Println(usage)
		return
	case args[0] == "healthcheck" && len(args) == 1:
		addr := os.Getenv(config.EnvHTTPAddr)
		if addr == "" {
			addr = config.DefaultHTTPAddr
		}
		if err := server.Check(ctx, addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	case args[0] == "cell" && len(args) == 3 && (args[1] == "export" || args[1] == "import"):
		cfg := loadConfig()
		if err := app.CellCommand(ctx, cfg, logger, app.Options{}, args[1], args[2], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "cellbot cell %s: %v\n", args[1], err)
			os.Exit(1)
		}
		return
	case args[0] == "healthcheck" || args[0] == "cell" || args[0] == "help":
		fmt.Fprintf(os.Stderr, "cellbot: wrong arguments for %s\n%s\n", args[0], usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "cellbot: unknown command %s\n%s\n", args[0], usage)
		os.Exit(2)
	}

	cfg := loadConfig()
	if err := app.Run(ctx, cfg, logger, app.Options{}); err != nil && ctx.Err() == nil {
		// Run fails only while starting: say why in a sentence, as for the
		// settings above, rather than as one more JSON line.
		fmt.Fprintf(os.Stderr, "cellbot cannot start: %v\n", err)
		os.Exit(1)
	}
}

// loadConfig reads the settings, or says every problem and exits 2.
func loadConfig() *config.Config {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cellbot cannot start:\n%v\n", err)
		os.Exit(2)
	}
	return cfg
}

// newLogger writes JSON lines for a log collector, and text on a terminal.
func newLogger() *slog.Logger {
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}
