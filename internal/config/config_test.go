package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redis/go-redis/v9"
)

const testToken = "123456:AAE-secret_token_value"

// env is a lookup function over a map, as os.LookupEnv is over the environment.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

// with returns a copy of e with the given pairs set.
func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

var base = env{EnvToken: testToken}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(base.lookup)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &Config{
		Token:        testToken,
		APIEndpoint:  "https://api.telegram.org/bot%s/%s",
		DataDir:      "data",
		TimeZoneName: "Asia/Ho_Chi_Minh",
		Lang:         "vi",
		HTTPAddr:     "127.0.0.1:8080",
	}
	if diff := cmp.Diff(want, c, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	if rdb := c.NewRedisClient(); rdb != nil {
		t.Errorf("NewRedisClient() = %T, want nil without REDIS_URL", rdb)
	}
}

func TestLoadValues(t *testing.T) {
	tests := []struct {
		name  string
		env   env
		check func(t *testing.T, c *Config)
	}{
		{
			name: "all set",
			env: base.with(
				EnvAPIEndpoint, "http://127.0.0.1:8081/bot%s/%s",
				EnvDataDir, "/var/lib/cellbot/",
				EnvOwnerIDs, " 42, 7,42,",
				EnvTimeZone, "Asia/Bangkok",
				EnvLang, "EN",
				EnvWebhookURL, "https://bot.example.org/hook",
				EnvWebhookSecret, "s3cret_-X",
				EnvHTTPAddr, "0.0.0.0:9000",
				EnvPaidBroadcast, "True",
			),
			check: func(t *testing.T, c *Config) {
				want := &Config{
					PaidBroadcast: true,
					Token:         testToken,
					APIEndpoint:   "http://127.0.0.1:8081/bot%s/%s",
					DataDir:       "/var/lib/cellbot",
					OwnerIDs:      []int64{42, 7},
					TimeZoneName:  "Asia/Bangkok",
					Lang:          "en",
					WebhookURL:    "https://bot.example.org/hook",
					WebhookSecret: "s3cret_-X",
					HTTPAddr:      "0.0.0.0:9000",
				}
				if diff := cmp.Diff(want, c, cmpopts.IgnoreUnexported(Config{})); diff != "" {
					t.Errorf("Load (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "blank values take defaults",
			env:  base.with(EnvLang, "  ", EnvTimeZone, "", EnvHTTPAddr, ""),
			check: func(t *testing.T, c *Config) {
				if c.Lang != "vi" || c.TimeZoneName != DefaultTimeZone || c.HTTPAddr != DefaultHTTPAddr {
					t.Errorf("Lang, TimeZoneName, HTTPAddr = %q, %q, %q; want defaults", c.Lang, c.TimeZoneName, c.HTTPAddr)
				}
			},
		},
		{
			name: "webhook without secret gets one derived from the token",
			env:  base.with(EnvWebhookURL, "http://localhost:8443/hook"),
			check: func(t *testing.T, c *Config) {
				if !c.WebhookSecretGenerated || !validSecret(c.WebhookSecret) || len(c.WebhookSecret) < 32 || strings.Contains(c.WebhookSecret, c.Token) {
					t.Errorf("WebhookSecret = %q (generated %v), want a long valid secret",
						c.WebhookSecret, c.WebhookSecretGenerated)
				}
				// Every replica derives the same secret; another token, another secret.
				replica, err := Load(base.with(EnvWebhookURL, "http://localhost:8443/hook").lookup)
				if err != nil {
					t.Fatal(err)
				}
				if replica.WebhookSecret != c.WebhookSecret {
					t.Error("two replicas derived different secrets")
				}
				other, err := Load(base.with(EnvWebhookURL, "http://localhost:8443/hook").with(EnvToken, "999:other").lookup)
				if err != nil {
					t.Fatal(err)
				}
				if other.WebhookSecret == c.WebhookSecret {
					t.Error("another token derived the same secret")
				}
			},
		},
		{
			name: "webhook over http on IPv6 loopback",
			env:  base.with(EnvWebhookURL, "http://[::1]:8443/hook"),
		},
		{
			name: "http addr with empty host",
			env:  base.with(EnvHTTPAddr, ":8080"),
		},
		{
			name: "paid broadcast off",
			env:  base.with(EnvPaidBroadcast, "no"),
			check: func(t *testing.T, c *Config) {
				if c.PaidBroadcast {
					t.Error("PaidBroadcast on with no")
				}
			},
		},
		{
			name: "UTC",
			env:  base.with(EnvTimeZone, "UTC"),
			check: func(t *testing.T, c *Config) {
				if c.TimeZoneName != "UTC" {
					t.Errorf("TimeZoneName = %q, want UTC", c.TimeZoneName)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.env.lookup)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  env
		// want are substrings each expected on its own line of the error.
		want []string
	}{
		{
			name: "no token",
			env:  env{},
			want: []string{"TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (see README) and set it"},
		},
		{
			name: "malformed token",
			env:  env{EnvToken: "not a token"},
			want: []string{"TELEGRAM_BOT_TOKEN does not look like a bot token"},
		},
		{
			name: "endpoint with one verb",
			env:  base.with(EnvAPIEndpoint, "https://api.telegram.org/bot%s"),
			want: []string{"TELEGRAM_API_ENDPOINT has 1 %s, needs exactly 2"},
		},
		{
			name: "endpoint with another verb",
			env:  base.with(EnvAPIEndpoint, "https://api.telegram.org/bot%s/%s?x=%d"),
			want: []string{"TELEGRAM_API_ENDPOINT has a % that is not %s"},
		},
		{
			name: "relative endpoint",
			env:  base.with(EnvAPIEndpoint, "/bot%s/%s"),
			want: []string{"TELEGRAM_API_ENDPOINT is not an absolute http:// or https:// URL"},
		},
		{
			name: "redis scheme",
			env:  base.with(EnvRedisURL, "http://localhost:6379"),
			want: []string{`REDIS_URL is not a valid Redis address (scheme "http" is not redis:// or rediss://)`},
		},
		{
			name: "redis unknown parameter",
			env:  base.with(EnvRedisURL, "redis://localhost:6379/0?bogus=1"),
			want: []string{"REDIS_URL is not a valid Redis address (", "bogus"},
		},
		{
			name: "redis cluster with a db",
			env:  base.with(EnvRedisURL, "redis://a:6379/3,b:6379"),
			want: []string{"a Cluster has only database 0"},
		},
		{
			name: "redis cluster bad address",
			env:  base.with(EnvRedisURL, "redis://a:6379,b"),
			want: []string{`address "b" is not host:port`},
		},
		{
			name: "owner ids",
			env:  base.with(EnvOwnerIDs, "12,abc,-5,0"),
			want: []string{
				`CELLBOT_OWNER_IDS item 2 ("abc") is not a Telegram user id`,
				`CELLBOT_OWNER_IDS item 3 ("-5")`,
				`CELLBOT_OWNER_IDS item 4 ("0")`,
			},
		},
		{
			name: "time zone",
			env:  base.with(EnvTimeZone, "Mars/Olympus"),
			want: []string{`CELLBOT_TZ="Mars/Olympus" is not a known time zone`},
		},
		{
			name: "lang",
			env:  base.with(EnvLang, "fr"),
			want: []string{`CELLBOT_LANG="fr" is not a language the bot speaks: set it to vi or en`},
		},
		{
			name: "webhook over plain http",
			env:  base.with(EnvWebhookURL, "http://bot.example.org/hook"),
			want: []string{"CELLBOT_WEBHOOK_URL uses http://, and Telegram posts only to https://"},
		},
		{
			name: "webhook port",
			env:  base.with(EnvWebhookURL, "https://bot.example.org:8080/hook"),
			want: []string{"CELLBOT_WEBHOOK_URL uses port 8080, and Telegram posts only to ports 443, 80, 88, 8443"},
		},
		{
			name: "webhook relative",
			env:  base.with(EnvWebhookURL, "/hook"),
			want: []string{"CELLBOT_WEBHOOK_URL is not an absolute https:// URL"},
		},
		{
			name: "secret characters",
			env:  base.with(EnvWebhookURL, "https://x.org/h", EnvWebhookSecret, "no spaces allowed!"),
			want: []string{"CELLBOT_WEBHOOK_SECRET must be 1 to 256 characters"},
		},
		{
			name: "secret too long",
			env:  base.with(EnvWebhookURL, "https://x.org/h", EnvWebhookSecret, strings.Repeat("a", 257)),
			want: []string{"CELLBOT_WEBHOOK_SECRET must be 1 to 256 characters"},
		},
		{
			name: "secret without url",
			env:  base.with(EnvWebhookSecret, "abc"),
			want: []string{"CELLBOT_WEBHOOK_SECRET is set but CELLBOT_WEBHOOK_URL is not"},
		},
		{
			name: "http addr without port",
			env:  base.with(EnvHTTPAddr, "localhost"),
			want: []string{`CELLBOT_HTTP_ADDR="localhost" is not host:port`},
		},
		{
			name: "http addr port out of range",
			env:  base.with(EnvHTTPAddr, "127.0.0.1:70000"),
			want: []string{`CELLBOT_HTTP_ADDR="127.0.0.1:70000" has port "70000"`},
		},
		{
			name: "everything at once",
			env: env{
				EnvToken:       "",
				EnvAPIEndpoint: "ftp://x/%s/%s",
				EnvRedisURL:    "mysql://x",
				EnvOwnerIDs:    "x",
				EnvTimeZone:    "Nowhere",
				EnvLang:        "de",
				EnvWebhookURL:  "ftp://x",
				EnvHTTPAddr:    "nope",
			},
			want: []string{EnvToken, EnvAPIEndpoint, EnvRedisURL, EnvOwnerIDs, EnvTimeZone, EnvLang, EnvWebhookURL, EnvHTTPAddr},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.env.lookup)
			if err == nil {
				t.Fatalf("Load = %v, nil; want an error", c)
			}
			if c != nil {
				t.Errorf("Load returned a Config with an error")
			}
			msg := err.Error()
			lines := strings.Split(msg, "\n")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			if len(tt.want) > 1 && tt.name == "everything at once" && len(lines) != len(tt.want) {
				t.Errorf("error has %d lines, want one per problem (%d):\n%s", len(lines), len(tt.want), msg)
			}
			for _, l := range lines {
				if !strings.Contains(l, ":") {
					t.Errorf("line %q does not say what to do", l)
				}
			}
		})
	}
}

func TestSecretsNeverShown(t *testing.T) {
	const (
		secret   = "hook_secret_value"
		password = "redis_pass_value"
	)
	e := base.with(
		EnvRedisURL, "redis://user:"+password+"@localhost:6379/0",
		EnvWebhookURL, "https://x.org/h",
		EnvWebhookSecret, secret,
	)
	c, err := Load(e.lookup)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("settings", "config", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("settings", "config", c)
	fmt.Fprintf(&buf, "%v %+v %s %#v", c, c, c, c)
	out := buf.String()
	for _, s := range []string{testToken, "secret_token_value", secret, password} {
		if strings.Contains(out, s) {
			t.Errorf("output shows %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "[redacted]") || !strings.Contains(out, "127.0.0.1:8080") {
		t.Errorf("output does not show the settings:\n%s", out)
	}

	// Errors must not show secrets either.
	bad := base.with(
		EnvToken, testToken+" extra",
		EnvRedisURL, "redis://user:"+password+"@localhost:6379/0?bogus=1",
		EnvWebhookURL, "https://x.org/h",
		EnvWebhookSecret, secret+"!",
	)
	_, err = Load(bad.lookup)
	if err == nil {
		t.Fatal("Load: no error")
	}
	for _, s := range []string{"secret_token_value", secret, password} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows %q:\n%v", s, err)
		}
	}
}

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want redisTarget
	}{
		{
			name: "single",
			url:  "redis://u:p@db.internal:6380/2?pool_size=7&dial_timeout=3",
			want: redisTarget{single: &redis.Options{
				Network: "tcp", Addr: "db.internal:6380", Username: "u", Password: "p", DB: 2,
				PoolSize: 7, DialTimeout: 3 * time.Second,
			}},
		},
		{
			name: "default port",
			url:  "redis://localhost",
			want: redisTarget{single: &redis.Options{Network: "tcp", Addr: "localhost:6379"}},
		},
		{
			name: "cluster from commas",
			url:  "redis://:pw@a:7000, b:7001,redis://c",
			want: redisTarget{cluster: &redis.ClusterOptions{
				Addrs: []string{"a:7000", "b:7001", "c:6379"}, Password: "pw",
			}},
		},
		{
			name: "cluster from addr parameters",
			url:  "redis://a:7000?addr=b:7001",
			want: redisTarget{cluster: &redis.ClusterOptions{Addrs: []string{"a:7000", "b:7001"}}},
		},
		{
			name: "sentinel",
			url:  "redis://s1:26379/1?master_name=mymaster&addr=s2:26379",
			want: redisTarget{failover: &redis.FailoverOptions{
				SentinelAddrs: []string{"s1:26379", "s2:26379"}, MasterName: "mymaster", DB: 1,
			}},
		},
		{
			name: "sentinel from commas",
			url:  "redis://s1:26379?master_name=m,s2:26379",
			want: redisTarget{failover: &redis.FailoverOptions{SentinelAddrs: []string{"s1:26379", "s2:26379"}, MasterName: "m"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(base.with(EnvRedisURL, tt.url).lookup)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			opts := []cmp.Option{
				cmp.AllowUnexported(redisTarget{}),
				cmpopts.IgnoreUnexported(redis.Options{}, redis.ClusterOptions{}, redis.FailoverOptions{}),
			}
			if diff := cmp.Diff(&tt.want, c.redis, opts...); diff != "" {
				t.Errorf("parsed REDIS_URL (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewRedisClient builds (without connecting) the client each kind of URL calls
// for, and checks that building it leaves the parsed options alone.
func TestNewRedisClient(t *testing.T) {
	tests := []struct {
		name string
		url  string
		// check looks at the client; it returns what is wrong, or "".
		check func(redis.UniversalClient) string
	}{
		{
			name: "redis:// is one server",
			url:  "redis://u:p@db.internal:6380/2?pool_size=7",
			check: func(c redis.UniversalClient) string {
				rc, ok := c.(*redis.Client)
				if !ok {
					return fmt.Sprintf("%T", c)
				}
				if o := rc.Options(); o.Addr != "db.internal:6380" || o.DB != 2 || o.PoolSize != 7 || o.Username != "u" || o.TLSConfig != nil {
					return fmt.Sprintf("%+v", o)
				}
				return ""
			},
		},
		{
			name: "rediss:// is one server over TLS",
			url:  "rediss://cache.example.org:6380",
			check: func(c redis.UniversalClient) string {
				rc, ok := c.(*redis.Client)
				if !ok {
					return fmt.Sprintf("%T", c)
				}
				if o := rc.Options(); o.Addr != "cache.example.org:6380" || o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example.org" {
					return fmt.Sprintf("%+v", o)
				}
				return ""
			},
		},
		{
			name: "master_name is Sentinel",
			// go-redis: the userinfo is the sentinels' password, password= the master's.
			url: "redis://:spw@s1:26379/1?master_name=mymaster&password=pw,s2:26379",
			check: func(c redis.UniversalClient) string {
				// go-redis's failover client is a *redis.Client whose Addr names it.
				rc, ok := c.(*redis.Client)
				if !ok {
					return fmt.Sprintf("%T", c)
				}
				if o := rc.Options(); o.Addr != "FailoverClient" || o.DB != 1 || o.Password != "pw" {
					return fmt.Sprintf("%+v", o)
				}
				return ""
			},
		},
		{
			name: "several addresses are a Cluster",
			url:  "rediss://:pw@a:7000,b:7001",
			check: func(c redis.UniversalClient) string {
				cc, ok := c.(*redis.ClusterClient)
				if !ok {
					return fmt.Sprintf("%T", c)
				}
				if o := cc.Options(); !slices.Equal(o.Addrs, []string{"a:7000", "b:7001"}) || o.Password != "pw" || o.TLSConfig == nil {
					return fmt.Sprintf("%+v", o)
				}
				return ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(base.with(EnvRedisURL, tt.url).lookup)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			before := fmt.Sprintf("%+v %+v %+v", c.redis.single, c.redis.cluster, c.redis.failover)
			for range 2 { // a second client is built from the same, untouched options
				rdb := c.NewRedisClient()
				if problem := tt.check(rdb); problem != "" {
					t.Errorf("NewRedisClient() = %s", problem)
				}
				if err := rdb.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
			if after := fmt.Sprintf("%+v %+v %+v", c.redis.single, c.redis.cluster, c.redis.failover); after != before {
				t.Errorf("building a client changed the parsed options:\n%s\n%s", before, after)
			}
		})
	}
}

// TestEverySettingIsDocumented: every setting the bot reads is in README's
// table, in .env.example and in docker-compose.yml (REDIS_URL, which compose
// sets to its own Redis, and CELLBOT_DATA_DIR, its Redis's directory when the
// bot starts one, are not passed through; CELLBOT_HTTP_ADDR is fixed there).
func TestEverySettingIsDocumented(t *testing.T) {
	files := map[string]string{}
	for _, name := range []string{"README.md", ".env.example", "docker-compose.yml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	notInCompose := map[string]bool{EnvDataDir: true}
	for _, env := range []string{EnvToken, EnvAPIEndpoint, EnvRedisURL, EnvDataDir, EnvOwnerIDs,
		EnvTimeZone, EnvLang, EnvWebhookURL, EnvWebhookSecret, EnvHTTPAddr, EnvPaidBroadcast} {
		for name, text := range files {
			if name == "docker-compose.yml" && notInCompose[env] {
				continue
			}
			if !strings.Contains(text, env) {
				t.Errorf("%s does not mention %s", name, env)
			}
		}
	}
}
