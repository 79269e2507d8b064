package sandbox

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// day is a fixed daytime start, so that no test meets the cell's quiet hours.
var day = time.Date(2026, 12, 1, 8, 0, 0, 0, location())

// TestRoster: the demo roster has 74 members, 51 regular and 23 exempt or away.
func TestRoster(t *testing.T) {
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(roster), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	regular, other := 0, 0
	for _, r := range rows[1:] {
		switch r[2] {
		case "regular":
			regular++
		case "exempt", "away", "tạm miễn sinh hoạt":
			other++
		default:
			t.Errorf("%s: participation %q", r[0], r[2])
		}
	}
	if len(rows)-1 != rosterMembers || regular != 51 || other != 23 {
		t.Errorf("roster: %d members, %d regular, %d exempt or away; want 74, 51, 23", len(rows)-1, regular, other)
	}
	if names := rosterNames(); len(names) != rosterMembers || names[0] != "Nguyễn Thị Lan" {
		t.Errorf("rosterNames: %d names, first %q", len(names), names[0])
	}
}

func TestRenderHTML(t *testing.T) {
	for _, tc := range []struct {
		text string
		ents []telegramtest.Entity
		want string
	}{
		{"a <b> & c", nil, "a &lt;b&gt; &amp; c"},
		{"Họp 🕑 ngay", []telegramtest.Entity{{Type: "bold", Offset: 0, Length: 3}, {Type: "italic", Offset: 7, Length: 4}}, "<b>Họp</b> 🕑 <i>ngay</i>"},
		{"xem tại đây", []telegramtest.Entity{{Type: "text_link", Offset: 4, Length: 7, URL: `https://x.vn/?a="b"`}}, `xem <a href="https://x.vn/?a=&#34;b&#34;" target="_blank" rel="noopener noreferrer">tại đây</a>`},
		{"js", []telegramtest.Entity{{Type: "text_link", Offset: 0, Length: 2, URL: "javascript:alert(1)"}}, "<a>js</a>"},
		{"ab", []telegramtest.Entity{{Type: "bold", Offset: 0, Length: 2}, {Type: "italic", Offset: 1, Length: 1}}, "<b>a<i>b</i></b>"},
	} {
		if got := renderHTML(tc.text, tc.ents); got != tc.want {
			t.Errorf("renderHTML(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func startSandbox(t *testing.T) *Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sb, err := Start(ctx, Options{Addr: "127.0.0.1:0", Start: day})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return sb
}

func getView(t *testing.T, base, as string) view {
	t.Helper()
	res, err := http.Get(base + "api/view?as=" + as)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v view
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTwoSandboxes: two sandboxes on one machine, each with its own ports and
// folder, each with its demo cell.
func TestTwoSandboxes(t *testing.T) {
	t.Parallel()
	a, b := make(chan *Sandbox, 1), make(chan *Sandbox, 1)
	go func() { a <- startSandbox(t) }()
	go func() { b <- startSandbox(t) }()
	sa, sb := <-a, <-b
	if sa == nil || sb == nil {
		t.FailNow()
	}
	if sa.URL() == sb.URL() || sa.Dir() == sb.Dir() {
		t.Fatalf("two sandboxes share %s / %s", sa.URL(), sa.Dir())
	}
	for _, s := range []*Sandbox{sa, sb} {
		v := getView(t, s.URL(), "secretary")
		if len(v.People) != 5 || !strings.Contains(lastText(v.Private.Messages), "đã được cấp quyền chi ủy trên Bot") {
			t.Errorf("%s: people %d, secretary's last message %q", s.URL(), len(v.People), lastText(v.Private.Messages))
		}
	}
}

func lastText(ms []viewMessage) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1].HTML
}

// TestInterruptLeavesNothing runs the command as main does and cancels its
// context, as Ctrl-C does: the page, the bot, redis-server and the folder are
// gone. It does not run in parallel: it counts this process's redis-servers.
func TestInterruptLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, []string{"-addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var url, dir string
	re := regexp.MustCompile(`open (http://\S+) \(Ctrl-C stops it and removes (\S+)\)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			url, dir = m[1], m[2]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if url == "" {
		t.Fatalf("no address printed; exit code %d", <-code)
	}
	redisPIDs := children(t, "redis-server")
	if len(redisPIDs) == 0 {
		t.Fatal("no redis-server child while the sandbox runs")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the sandbox's folder: %v", err)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sandbox did not stop within 30 s of Ctrl-C")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is left behind (%v)", dir, err)
	}
	for _, pid := range redisPIDs {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil {
			t.Errorf("redis-server %d is still running", pid)
		}
	}
	host := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		c.Close()
		t.Errorf("the page still answers on %s", host)
	}
}

// children lists the pids of this process's children running name (Linux).
func children(t *testing.T, name string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "("+name[:min(len(name), 15)]) {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			out = append(out, pid)
		}
	}
	return out
}

// TestWithoutRedisServer: without redis-server on PATH the sandbox says only how
// to install it; REDIS_URL and docker compose, the bot's ways round, do not
// apply to it. Not parallel: it empties PATH.
func TestWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s, err := Start(context.Background(), Options{Addr: "127.0.0.1:0"})
	if err == nil {
		_ = s.Close()
		t.Fatal("the sandbox started without redis-server on PATH")
	}
	msg := err.Error()
	for _, want := range []string{"redis-server", "sudo apt-get install redis-server", "brew install redis"} {
		if !strings.Contains(msg, want) {
			t.Errorf("does not say %q: %s", want, msg)
		}
	}
	for _, not := range []string{"REDIS_URL", "docker", "redisserver:"} {
		if strings.Contains(msg, not) {
			t.Errorf("says %q: %s", not, msg)
		}
	}
}
