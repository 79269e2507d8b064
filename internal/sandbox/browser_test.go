package sandbox

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser the page test drives: Debian's chromium, which
// scripts/ensure-chromium installs (make test runs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the sandbox's page test needs Chromium, and none is on PATH: run scripts/ensure-chromium " +
		"(make test runs it; Debian/Ubuntu: sudo apt-get install chromium)")
	return ""
}

// TestPageMeetingAndRSVP drives the page in headless Chromium: the secretary
// sends the roster from the file picker and /meeting, a member presses "✅ Tham dự" on the notice, and the group's
// count shows one coming. The screenshot goes to the test's temporary folder,
// and to $CELLBOT_SANDBOX_SCREENSHOT when set (docs/sandbox.png is made so).
func TestPageMeetingAndRSVP(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	sb := startSandbox(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(userDataDir(t)),
		chromedp.WindowSize(430, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelCtx()
	// The first Run starts the browser and must not have a deadline; the steps
	// after it have one.
	if err := chromedp.Run(ctx, chromedp.Navigate(sb.URL())); err != nil {
		t.Fatalf("open %s in Chromium: %v", sb.URL(), err)
	}
	stepCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	waitText := func(substr string) chromedp.Action {
		return chromedp.Poll(`document.getElementById("messages").innerText.includes(`+jsString(substr)+`)`, nil,
			chromedp.WithPollingTimeout(90*time.Second))
	}
	hold := func(key string) chromedp.Action {
		return chromedp.Evaluate(`(() => { const s = document.getElementById("as"); s.value = `+jsString(key)+
			`; s.dispatchEvent(new Event("change")); return s.value; })()`, nil)
	}
	csvPath := filepath.Join(t.TempDir(), "roster74.csv")
	if err := os.WriteFile(csvPath, roster, 0o644); err != nil {
		t.Fatal(err)
	}
	const meeting = "/meeting 03/12/2026 14:00 at Nhà văn hóa"
	var shot []byte
	step := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(context.Context) error { t.Log(name); return nil })
	}
	err := chromedp.Run(stepCtx,
		chromedp.WaitReady(`#as option[value="member1"]`, chromedp.ByQuery),
		step("the page is drawn"),
		hold("secretary"),
		chromedp.Click("#tab-private", chromedp.ByQuery),
		waitText("đã được cấp quyền chi ủy trên Bot"),
		step("the secretary's chat is shown"),
		// The roster again, from the file picker: a re-import updates by name.
		chromedp.SetUploadFiles("#file", []string{csvPath}, chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("messages").innerText.split("Đã nhập 74 đồng chí").length > 2`, nil,
			chromedp.WithPollingTimeout(90*time.Second)),
		step("the roster is imported again from the file picker"),
		chromedp.SendKeys("#text", meeting, chromedp.ByQuery),
		chromedp.Click("#send", chromedp.ByQuery),
		waitText("Đã tạo buổi sinh hoạt"),
		step("the meeting is made"),
		hold("member1"),
		waitText("Thông báo sinh hoạt chi bộ"),
		step("the member has the notice"),
		// The page redraws its messages at every event, so the button is found
		// and clicked in one go rather than through a node id that may go stale.
		chromedp.Poll(`(() => { const b = [...document.querySelectorAll("#messages .kb button")].find((b) => b.textContent === "✅ Tham dự");
			if (!b) return false; b.click(); return true; })()`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Click("#tab-group", chromedp.ByQuery),
		step("pressed; to the group"),
		waitText("1 tham dự"),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.CaptureScreenshot(&shot),
		// English at a press, the chats unchanged.
		chromedp.Click("#lang", chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("plus-day").textContent === "+1 day" && document.getElementById("tab-private").textContent.includes("Private chat")`, nil,
			chromedp.WithPollingTimeout(10*time.Second)),
		waitText("1 tham dự"),
		// The clock to the next reminder: the member is reminded of the meeting.
		chromedp.Click("#tab-private", chromedp.ByQuery),
		chromedp.Click("#to-next", chromedp.ByQuery),
		waitText("Nhắc lịch sinh hoạt chi bộ"),
		step("the clock moved to the reminder"),
	)
	if err != nil {
		var text string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.body.innerText`, &text))
		t.Fatalf("driving the page: %v\npage text:\n%s", err, text)
	}
	path := filepath.Join(t.TempDir(), "sandbox.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if out := os.Getenv("CELLBOT_SANDBOX_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// userDataDir is a new empty profile folder for Chromium. It is removed after
// the browser stops, retrying for a while: Chromium's helper processes may
// still write to it for a moment after the browser process has exited, and
// t.TempDir's one try would then fail the test.
func userDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cellbot-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("remove Chromium's profile: %v", err)
	})
	return dir
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
