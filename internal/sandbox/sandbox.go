// Package sandbox runs cellbot without Telegram, for trying it in a browser
// (`cellbot sandbox`): a redis-server in a temporary folder, the Bot API test
// server (package telegramtest), the real bot against it (app.Run), a demo cell
// of 74 members set up through the bot's own commands, and a web page that
// shows the group chat and the private chats of five people on a phone's
// screen. Every message goes through the test server with Telegram's limits,
// so what the page shows is what members would see.
//
// The bot's clock is the sandbox's own: the page moves it forward, so that
// reminders, check-in and the summary can be tried in a minute.
package sandbox

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cellbot/cellbot/internal/app"
	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/config"
	"github.com/cellbot/cellbot/internal/redisserver"
	"github.com/cellbot/cellbot/internal/telegramtest"
	"github.com/cellbot/cellbot/storage"
	"github.com/redis/go-redis/v9"
)

// DefaultAddr is where the page is served unless -addr says otherwise.
const DefaultAddr = "127.0.0.1:8090"

// keyPrefix is the bot's Redis key prefix; the Redis is the sandbox's own.
const keyPrefix = "cellbot"

// The demo cell.
const (
	cellTitle = "Chi bộ Khu phố 3"
	// rosterMembers is how many members roster74.csv holds: 51 regular, 23
	// exempt or away.
	rosterMembers = 74
)

// roster is the demo roster, imported through /import as a secretary would.
//
//go:embed roster74.csv
var roster []byte

// Options say how to run a sandbox.
type Options struct {
	// Addr is the page's listen address, DefaultAddr when empty; port 0 picks a
	// free one.
	Addr string
	// Logger receives the bot's warnings and errors; nil discards them.
	Logger *slog.Logger
	// Start is the clock's time at start; zero is now, or 08:00 the next
	// morning at night (the cell's quiet hours would hold the bot's messages).
	Start time.Time
}

// person is someone whose phone the visitor can hold.
type person struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	RoleVI string `json:"role_vi"`
	RoleEN string `json:"role_en"`
	user   *telegramtest.User
}

// Sandbox is a running sandbox. Close stops it and removes its folder.
type Sandbox struct {
	dir    string
	redis  *redisserver.Server
	rdb    *redis.Client
	store  *storage.Store
	tg     *telegramtest.Server
	clock  *Clock
	logger *slog.Logger

	botCancel context.CancelFunc
	botDone   chan error

	web     *http.Server
	ln      net.Listener
	webDone chan struct{}
	closing chan struct{}

	group  *telegramtest.Group
	people []*person

	// act serialises the visitor's actions: the test server's users are
	// scripted one step at a time.
	act       sync.Mutex
	closeOnce sync.Once
	closeErr  error
}

// Start starts a sandbox and returns once the demo cell is ready and the page
// is served. On error, whatever it started is stopped and its folder removed.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "cellbot-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("sandbox: temporary folder: %w", err)
	}
	if opts.Start.IsZero() {
		opts.Start = daytime(time.Now())
	}
	s := &Sandbox{dir: dir, logger: logger, closing: make(chan struct{}), clock: newClock(opts.Start)}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	// The page's port first: when it is taken (another sandbox), say so at once.
	s.ln, err = net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: the page cannot listen on %s (-addr 127.0.0.1:0 picks a free port): %w", opts.Addr, err)
	}
	s.redis, err = redisserver.Start(ctx, redisserver.Options{Dir: filepath.Join(dir, "redis"), Logger: logger.With("component", "redis-server")})
	if errors.Is(err, redisserver.ErrNotInstalled) {
		// Only how to install it: the sandbox ignores REDIS_URL, and docker
		// compose runs the real bot, not the sandbox.
		return nil, fmt.Errorf("the sandbox runs its own redis-server, but %w", redisserver.ErrNotInstalled)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s.rdb = redis.NewClient(&redis.Options{Addr: s.redis.Addr()})
	s.store = storage.New(s.rdb, keyPrefix)
	s.tg = telegramtest.New(telegramtest.WithClock(s.clock.Now), telegramtest.WithWaitTimeout(30*time.Second))

	vars := map[string]string{
		config.EnvToken:       telegramtest.Token,
		config.EnvAPIEndpoint: s.tg.Endpoint(),
		config.EnvRedisURL:    s.redis.URL(),
		config.EnvDataDir:     filepath.Join(dir, "data"),
		config.EnvHTTPAddr:    "127.0.0.1:0",
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		return nil, fmt.Errorf("sandbox: settings: %w", err)
	}
	botCtx, cancel := context.WithCancel(context.Background())
	s.botCancel, s.botDone = cancel, make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		s.botDone <- app.Run(botCtx, cfg, logger, app.Options{KeyPrefix: keyPrefix, Now: s.clock.Now, Ready: func(string) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-s.botDone:
		s.botDone <- err
		return nil, fmt.Errorf("sandbox: the bot did not start: %v", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := telegramtest.Try(s.seed); err != nil {
		return nil, fmt.Errorf("sandbox: setting up the demo cell: %w", err)
	}

	s.web = &http.Server{Handler: s.routes(s.Loopback()), ReadHeaderTimeout: 10 * time.Second}
	s.webDone = make(chan struct{})
	go func() {
		defer close(s.webDone)
		if err := s.web.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("sandbox: page server", "err", err)
		}
	}()
	return s, nil
}

// URL is the page's address.
func (s *Sandbox) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Loopback reports whether the page listens on a loopback address only, out
// of the network's reach.
func (s *Sandbox) Loopback() bool {
	a, ok := s.ln.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// Dir is the temporary folder that holds everything the sandbox writes.
func (s *Sandbox) Dir() string { return s.dir }

// Close stops the page, the bot, the test server and redis-server, and removes
// the temporary folder.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		var errs []error
		if s.web != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.web.Shutdown(ctx); err != nil {
				_ = s.web.Close()
			}
			cancel()
			<-s.webDone
		} else if s.ln != nil {
			_ = s.ln.Close()
		}
		if s.botCancel != nil {
			s.botCancel()
			if err := <-s.botDone; err != nil {
				errs = append(errs, fmt.Errorf("bot: %w", err))
			}
		}
		if s.tg != nil {
			s.tg.Shutdown()
		}
		if s.rdb != nil {
			_ = s.rdb.Close()
		}
		if s.redis != nil {
			if err := s.redis.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// seed sets up the demo cell through the bot, as a secretary would: /setup in
// the group, /import of the roster; then links every member to a Telegram
// account of the test server and has the secretary /promote the deputy. It
// panics with a *telegramtest.Failure when the bot does not answer as expected.
func (s *Sandbox) seed() {
	ctx := context.Background()
	names := rosterNames()
	sec := s.tg.User(names[0])
	s.group = s.tg.Group(cellTitle)
	s.group.AddAdmin(sec)
	sec.Start("")
	sec.SendIn(s.group, "/setup "+cellTitle)
	s.tg.WaitMessage(s.group.ID(), "Đã thiết lập "+cellTitle)
	sec.SendDocument("roster74.csv", roster, "/import")
	sec.WaitMessage(fmt.Sprintf("Đã nhập %d đồng chí", rosterMembers))
	c, err := s.store.CellByChat(ctx, s.group.ID())
	if err != nil {
		panic(&telegramtest.Failure{Msg: fmt.Sprintf("the group is not a cell after /setup: %v", err)})
	}
	// The delivery loop keeps quiet hours by the real clock, not the sandbox's:
	// at night it would hold what the page's clock says is day. The demo cell
	// has none (a visitor can set them with /quiet).
	if err := s.store.SetCellQuiet(ctx, c.ID, cell.QuietHours{}); err != nil {
		panic(&telegramtest.Failure{Msg: err.Error()})
	}
	members, err := s.store.Members(ctx, c.ID)
	if err != nil {
		panic(&telegramtest.Failure{Msg: err.Error()})
	}
	users := map[string]*telegramtest.User{names[0]: sec}
	for _, m := range members {
		if m.UserID != 0 {
			continue
		}
		// Each member has opened the bot and joined through the group's link;
		// the committee confirmed them. Done through storage, as 73 walks
		// through the join dialogue would fill the secretary's chat.
		u := s.tg.User(m.Name)
		u.Opened()
		s.group.Add(u)
		if err := s.store.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: u.ID(), Name: m.Name, MemberID: m.ID}); err != nil {
			panic(&telegramtest.Failure{Msg: err.Error()})
		}
		if _, err := s.store.ConfirmJoin(ctx, c.ID, u.ID()); err != nil {
			panic(&telegramtest.Failure{Msg: err.Error()})
		}
		users[m.Name] = u
	}
	s.people = []*person{
		{Key: "secretary", Name: names[0], RoleVI: "Bí thư", RoleEN: "Secretary"},
		{Key: "deputy", Name: names[1], RoleVI: "Phó bí thư", RoleEN: "Deputy secretary"},
		{Key: "member1", Name: names[2], RoleVI: "Đảng viên", RoleEN: "Member"},
		{Key: "member2", Name: names[3], RoleVI: "Đảng viên", RoleEN: "Member"},
		{Key: "elder", Name: elderName, RoleVI: "Đảng viên cao tuổi (miễn sinh hoạt)", RoleEN: "Elderly member (exempt)"},
	}
	for _, p := range s.people {
		if p.user = users[p.Name]; p.user == nil {
			panic(&telegramtest.Failure{Msg: fmt.Sprintf("%s is not linked", p.Name)})
		}
	}
	sec.Send("/promote " + names[1])
	sec.WaitMessage("đã được cấp quyền chi ủy trên Bot")
}

// elderName is the member shown as the elderly one: exempt, "cao tuổi".
const elderName = "Võ Xuân Hòa"

// rosterNames are the names of roster74.csv, in order.
func rosterNames() []string {
	var out []string
	for i, line := range strings.Split(strings.TrimPrefix(string(roster), "\ufeff"), "\n") {
		if name, _, ok := strings.Cut(line, ","); ok && i > 0 {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out
}

// daytime is now, in the cell's time zone, or the next 08:00 when now is
// between 21:00 and 07:00.
func daytime(now time.Time) time.Time {
	t := now.In(location())
	switch {
	case t.Hour() >= 21:
		t = t.AddDate(0, 0, 1)
		fallthrough
	case t.Hour() < 7:
		return time.Date(t.Year(), t.Month(), t.Day(), 8, 0, 0, 0, t.Location())
	}
	return now
}

// location is the demo cell's time zone, the bot's default.
func location() *time.Location {
	loc, err := time.LoadLocation(config.DefaultTimeZone)
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}

// Clock is the bot's clock: real time plus an offset the page moves forward.
type Clock struct {
	mu      sync.Mutex
	offset  time.Duration
	changed chan struct{}
}

func newClock(start time.Time) *Clock {
	c := &Clock{changed: make(chan struct{})}
	if !start.IsZero() {
		c.offset = time.Until(start)
	}
	return c
}

// Now is the bot's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	close(c.changed)
	c.changed = make(chan struct{})
}

// Changed returns a channel closed at the clock's next move.
func (c *Clock) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// Main runs `cellbot sandbox [-addr host:port]` until ctx ends, printing the
// page's address to stdout; it returns the process's exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	addr, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// go-redis logs through one package-level logger: set here, once per
	// process, as cmd/cellbot does for the bot.
	redis.SetLogger(app.RedisLogger(logger))
	fmt.Fprintln(stdout, "cellbot sandbox: starting redis-server, the Bot API test server and the bot…")
	sb, err := Start(ctx, Options{Addr: addr, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "cellbot sandbox cannot start: %v\n", err)
		return 1
	}
	if !sb.Loopback() {
		fmt.Fprintf(stderr, "cellbot sandbox: warning: %s is not a loopback address; the page has no login, so anyone who can reach it plays the secretary and the members\n", addr)
	}
	fmt.Fprintf(stdout, "cellbot sandbox: open %s (Ctrl-C stops it and removes %s)\n", sb.URL(), sb.Dir())
	<-ctx.Done()
	if err := sb.Close(); err != nil {
		fmt.Fprintf(stderr, "cellbot sandbox: stopping: %v\n", err)
		return 1
	}
	return 0
}
