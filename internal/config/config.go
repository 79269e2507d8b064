// Package config holds cellbot's settings (README.md, "Settings") as one
// struct, read through an environment lookup function so that tests can feed it a map.
//
// Load checks every variable and reports all problems at once, one line per problem,
// each naming the variable and saying what to do. No message ever contains the bot token.
package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	// The time zone database is embedded so that CELLBOT_TZ works on machines and images
	// without /usr/share/zoneinfo (distroless, scratch, Windows).
	_ "time/tzdata"

	"github.com/redis/go-redis/v9"
)

// Names of the environment variables, as README's Settings table spells them.
const (
	EnvToken         = "TELEGRAM_BOT_TOKEN"
	EnvAPIEndpoint   = "TELEGRAM_API_ENDPOINT"
	EnvRedisURL      = "REDIS_URL"
	EnvDataDir       = "CELLBOT_DATA_DIR"
	EnvOwnerIDs      = "CELLBOT_OWNER_IDS"
	EnvTimeZone      = "CELLBOT_TZ"
	EnvLang          = "CELLBOT_LANG"
	EnvWebhookURL    = "CELLBOT_WEBHOOK_URL"
	EnvWebhookSecret = "CELLBOT_WEBHOOK_SECRET"
	EnvHTTPAddr      = "CELLBOT_HTTP_ADDR"
	EnvPaidBroadcast = "CELLBOT_PAID_BROADCAST"
)

// Defaults, as README's Settings table gives them.
const (
	DefaultAPIEndpoint = "https://api.telegram.org/bot%s/%s"
	DefaultDataDir     = "./data"
	DefaultTimeZone    = "Asia/Ho_Chi_Minh"
	DefaultLang        = "vi"
	DefaultHTTPAddr    = "127.0.0.1:8080"
)

// Languages the bot speaks; the first is the default.
var languages = []string{"vi", "en"}

// Config is the bot's settings. Build it with Load.
type Config struct {
	// Token is the bot token from BotFather. Never log it: Config's LogValue redacts it.
	Token string
	// APIEndpoint is the Bot API address format, with two %s: the token, then the method.
	APIEndpoint string

	// RedisURL is where state lives; empty means the bot runs its own redis-server in
	// DataDir (see package redisserver). NewRedisClient builds its client.
	RedisURL string
	// DataDir holds the managed redis-server's data and append-only file.
	DataDir string

	// OwnerIDs are the Telegram user ids of operators, who may create cells.
	OwnerIDs []int64

	// TimeZoneName is the IANA name of new cells' time zone; Load checks that it loads.
	TimeZoneName string

	// Lang is the default language: "vi" or "en".
	Lang string

	// WebhookURL, when set, makes updates arrive by webhook instead of long polling.
	WebhookURL string
	// WebhookSecret is checked against X-Telegram-Bot-Api-Secret-Token. When WebhookURL
	// is set and no secret was given, Load derives one from the token, the same in
	// every replica (WebhookSecretGenerated is then true).
	WebhookSecret          string
	WebhookSecretGenerated bool

	// HTTPAddr is host:port of the bot's own HTTP listener (webhook, /healthz, /metrics).
	HTTPAddr string

	// PaidBroadcast sends with Telegram's allow_paid_broadcast, which raises the
	// overall limit from 30 to 1,000 messages a second for a fee in Telegram
	// Stars per message beyond the free 30. Off by default.
	PaidBroadcast bool

	redis *redisTarget
}

// Load reads the settings through lookup (main passes os.LookupEnv). An unset or blank
// variable takes its default. When anything is wrong, Load returns a nil Config and an
// error joining one line per problem.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var (
		c    Config
		errs []error
	)
	problem := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}

	c.Token = get(EnvToken)
	if err := checkToken(c.Token); err != nil {
		errs = append(errs, err)
	}

	c.APIEndpoint = orDefault(get(EnvAPIEndpoint), DefaultAPIEndpoint)
	if err := checkAPIEndpoint(c.APIEndpoint); err != nil {
		problem("%s %v: set it to a URL format such as %s (two %%s: the token, then the method)",
			EnvAPIEndpoint, err, DefaultAPIEndpoint)
	}

	c.RedisURL = get(EnvRedisURL)
	if c.RedisURL != "" {
		target, err := parseRedisURL(c.RedisURL)
		if err != nil {
			problem("%s is not a valid Redis address (%v): use redis://[user:password@]host:port/db, "+
				"rediss:// for TLS, comma-separated addresses for a Cluster, or ?master_name=NAME for Sentinel; "+
				"or leave it empty to run a local redis-server", EnvRedisURL, err)
		}
		c.redis = target
	}

	c.DataDir = filepath.Clean(orDefault(get(EnvDataDir), DefaultDataDir))

	ids, idErrs := parseOwnerIDs(get(EnvOwnerIDs))
	c.OwnerIDs = ids
	errs = append(errs, idErrs...)

	c.TimeZoneName = orDefault(get(EnvTimeZone), DefaultTimeZone)
	if _, err := loadLocation(c.TimeZoneName); err != nil {
		problem("%s=%q is not a known time zone: use an IANA name such as %s or Asia/Bangkok",
			EnvTimeZone, c.TimeZoneName, DefaultTimeZone)
	}

	c.Lang = strings.ToLower(orDefault(get(EnvLang), DefaultLang))
	if !slices.Contains(languages, c.Lang) {
		problem("%s=%q is not a language the bot speaks: set it to %s",
			EnvLang, get(EnvLang), strings.Join(languages, " or "))
	}

	c.WebhookURL = get(EnvWebhookURL)
	if c.WebhookURL != "" {
		if err := checkWebhookURL(c.WebhookURL); err != nil {
			problem("%s %v: set it to the public https:// address Telegram should post updates to, "+
				"or leave it empty to use long polling", EnvWebhookURL, err)
		}
	}

	c.WebhookSecret = get(EnvWebhookSecret)
	switch {
	case c.WebhookSecret != "" && !validSecret(c.WebhookSecret):
		// The value is a secret too: say what is wrong with it, not what it is.
		problem("%s must be 1 to 256 characters, each a letter A-Z or a-z, a digit, _ or - (Telegram's rule): "+
			"change it, or leave it empty and the bot makes one", EnvWebhookSecret)
	case c.WebhookSecret != "" && c.WebhookURL == "":
		problem("%s is set but %s is not: set %s to use a webhook, or unset %s to use long polling",
			EnvWebhookSecret, EnvWebhookURL, EnvWebhookURL, EnvWebhookSecret)
	case c.WebhookSecret == "" && c.WebhookURL != "":
		c.WebhookSecret, c.WebhookSecretGenerated = derivedSecret(c.Token, c.WebhookURL), true
	}

	c.HTTPAddr = orDefault(get(EnvHTTPAddr), DefaultHTTPAddr)
	if err := checkHostPort(c.HTTPAddr); err != nil {
		problem("%s=%q %v: set it to host:port, such as %s, or 0.0.0.0:8080 to listen on every interface",
			EnvHTTPAddr, c.HTTPAddr, err, DefaultHTTPAddr)
	}

	switch v := strings.ToLower(get(EnvPaidBroadcast)); v {
	case "", "0", "false", "no", "off":
	case "1", "true", "yes", "on":
		c.PaidBroadcast = true
	default:
		problem("%s=%q is not a yes or no: set it to true to pay for up to 1,000 messages a second, or leave it empty", EnvPaidBroadcast, get(EnvPaidBroadcast))
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// NewRedisClient builds the go-redis client RedisURL calls for: redis.NewClient for one
// server (rediss:// with TLS), redis.NewFailoverClient for Sentinel (a master_name
// parameter), redis.NewClusterClient for a Cluster (several addresses). It does not
// connect. It returns nil when RedisURL is empty: the bot then runs its own
// redis-server in DataDir. Each call builds a new client, which the caller closes.
func (c *Config) NewRedisClient() redis.UniversalClient {
	if c.redis == nil {
		return nil
	}
	return c.redis.newClient()
}

// LogValue makes the Config safe to log with slog: the token and the webhook secret are
// replaced by whether they are set, and a password in REDIS_URL is masked.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", redacted(c.Token)),
		slog.String("api_endpoint", c.APIEndpoint),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("data_dir", c.DataDir),
		slog.Any("owner_ids", c.OwnerIDs),
		slog.String("time_zone", c.TimeZoneName),
		slog.String("lang", c.Lang),
		slog.String("webhook_url", c.WebhookURL),
		slog.String("webhook_secret", redacted(c.WebhookSecret)),
		slog.Bool("webhook_secret_generated", c.WebhookSecretGenerated),
		slog.String("http_addr", c.HTTPAddr),
	)
}

// String redacts secrets too, so that fmt.Print(cfg) cannot leak the token.
func (c *Config) String() string {
	return c.LogValue().String()
}

// GoString keeps %#v from printing the token.
func (c *Config) GoString() string {
	return "config.Config" + c.LogValue().String()
}

// tokenPattern is the shape of BotFather's tokens: the bot's numeric id, a colon, a secret.
var tokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

func checkToken(token string) error {
	switch {
	case token == "":
		return fmt.Errorf("%s is not set: get a token from @BotFather (see README) and set it", EnvToken)
	case !tokenPattern.MatchString(token):
		return fmt.Errorf("%s does not look like a bot token (digits, a colon, then letters, digits, _ or -): "+
			"copy the whole token from @BotFather again", EnvToken)
	}
	return nil
}

func checkAPIEndpoint(format string) error {
	if n := strings.Count(format, "%s"); n != 2 {
		return fmt.Errorf("has %d %%s, needs exactly 2", n)
	}
	u := fmt.Sprintf(format, "123:token", "getMe")
	if strings.Contains(u, "%!") {
		return errors.New("has a % that is not %s (write a literal % as %%)")
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("does not make a valid URL: %w", err)
	}
	if (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return errors.New("is not an absolute http:// or https:// URL")
	}
	return nil
}

// parseRedisURL turns a REDIS_URL value into the options of the client it calls for:
//
//   - redis://[user:password@]host:port/db, or rediss:// for TLS: one server;
//   - several comma-separated addresses (each a redis:// URL or a bare host:port,
//     credentials and parameters taken from the first), or addr= parameters: a Cluster;
//   - a master_name=NAME parameter: Sentinel, the addresses being the sentinels'.
//
// Query parameters are go-redis's (dial_timeout, pool_size, …); unknown ones are errors.
func parseRedisURL(raw string) (*redisTarget, error) {
	parts := strings.Split(raw, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" {
			return nil, errors.New("empty address in the comma-separated list")
		}
	}
	first, err := url.Parse(parts[0])
	if err != nil {
		return nil, errors.New("cannot parse the URL") // url's message would repeat the password
	}
	if first.Scheme != "redis" && first.Scheme != "rediss" {
		return nil, fmt.Errorf("scheme %q is not redis:// or rediss://", first.Scheme)
	}
	if first.Hostname() == "" {
		return nil, errors.New("no host")
	}
	var extra []string
	for _, p := range parts[1:] {
		addr, err := hostPort(p, first.Scheme)
		if err != nil {
			return nil, err
		}
		extra = append(extra, addr)
	}
	q := first.Query()
	// go-redis reads extra seed addresses from addr= parameters: put the comma-separated
	// ones there so that one parser sees them all.
	for _, a := range extra {
		q.Add("addr", a)
	}
	first.RawQuery = q.Encode()
	u := first.String()

	switch {
	case q.Get("master_name") != "":
		fo, err := redis.ParseFailoverURL(u)
		if err != nil {
			return nil, scrub(err, first)
		}
		return &redisTarget{failover: fo}, nil
	case q.Has("addr"):
		co, err := redis.ParseClusterURL(u)
		if err != nil {
			return nil, scrub(err, first)
		}
		if db := strings.Trim(first.Path, "/"); db != "" && db != "0" {
			return nil, fmt.Errorf("a Cluster has only database 0, not %q", db)
		}
		return &redisTarget{cluster: co}, nil
	default:
		so, err := redis.ParseURL(u)
		if err != nil {
			return nil, scrub(err, first)
		}
		return &redisTarget{single: so}, nil
	}
}

// hostPort reads one of the extra comma-separated addresses: a URL of the first one's
// scheme, or host:port.
func hostPort(s, scheme string) (string, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", errors.New("cannot parse one of the comma-separated URLs")
		}
		if u.Scheme != scheme {
			return "", fmt.Errorf("address %q uses %s:// while the first uses %s://", u.Host, u.Scheme, scheme)
		}
		s = u.Host
		if u.Port() == "" {
			s = net.JoinHostPort(u.Hostname(), "6379")
		}
	}
	if err := checkHostPort(s); err != nil {
		return "", fmt.Errorf("address %q %w", s, err)
	}
	return s, nil
}

// scrub removes the URL's password from a go-redis parse error, in case it quotes it.
func scrub(err error, u *url.URL) error {
	msg := err.Error()
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return errors.New(strings.TrimPrefix(msg, "redis: "))
}

func parseOwnerIDs(s string) ([]int64, []error) {
	if s == "" {
		return nil, nil
	}
	var (
		ids  []int64
		errs []error
	)
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue // tolerate "1,2," and "1,,2"
		}
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fmt.Errorf("%s item %d (%q) is not a Telegram user id: use positive whole numbers "+
				"separated by commas (a user can learn their id from @userinfobot)", EnvOwnerIDs, i+1, f))
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, errs
}

func loadLocation(name string) (*time.Location, error) {
	// time.LoadLocation accepts "" and "UTC" and "Local"; "" and "Local" would depend on
	// the machine, which a setting should not.
	if name == "Local" {
		return nil, errors.New("the zone named Local depends on the machine")
	}
	return time.LoadLocation(name)
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("is not an absolute https:// URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("uses http://, and Telegram posts only to https://")
	}
	if u.User != nil {
		return errors.New("must not carry a user or password")
	}
	if u.Fragment != "" {
		return errors.New("must not have a #fragment")
	}
	if p := u.Port(); p != "" && !isLoopback(u.Hostname()) && !slices.Contains(webhookPorts, p) {
		return fmt.Errorf("uses port %s, and Telegram posts only to ports %s (let a reverse proxy listen there; docs/operations.md)",
			p, strings.Join(webhookPorts, ", "))
	}
	return nil
}

// webhookPorts are the ports setWebhook accepts.
var webhookPorts = []string{"443", "80", "88", "8443"}

func isLoopback(host string) bool {
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

var secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func validSecret(s string) bool { return secretPattern.MatchString(s) }

// derivedSecret makes the webhook secret from the token and the webhook address
// (HMAC-SHA256, base64url: Telegram's alphabet): every replica of one deployment
// derives the same secret, so that one replica's setWebhook does not lock the
// others out, and it changes when the token does.
func derivedSecret(token, webhookURL string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("cellbot webhook secret\x00" + webhookURL))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("is not host:port")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("has port %q, not a number from 1 to 65535 (0: any free port)", port)
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			return "[unparsable]"
		}
		out = append(out, u.Redacted())
	}
	return strings.Join(out, ",")
}
