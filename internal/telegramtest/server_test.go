package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 4, 3, 14, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newBot(t *testing.T, s *Server) *tgbotapi.BotAPI {
	t.Helper()
	bot, err := tgbotapi.NewBotAPIWithClient(s.Token, s.Endpoint(), &http.Client{Timeout: 60 * time.Second})
	if err != nil {
		t.Fatalf("NewBotAPI: %v", err)
	}
	return bot
}

// call makes a raw form request and returns the decoded answer.
func call(t *testing.T, s *Server, method string, form url.Values) apiResp {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/bot"+s.Token+"/"+method, form)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var r apiResp
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	r.Status = resp.StatusCode
	return r
}

type apiResp struct {
	Status      int             `json:"-"`
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func apiErr(t *testing.T, err error) *tgbotapi.Error {
	t.Helper()
	var e *tgbotapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *tgbotapi.Error, got %v", err)
	}
	return e
}

func TestGetMe(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	if bot.Self.ID != BotID || bot.Self.UserName != BotUsername || !bot.Self.IsBot || bot.Self.FirstName != "Cellbot Test" {
		t.Errorf("getMe = %+v", bot.Self)
	}
}

func TestRouting(t *testing.T) {
	s := NewServer(t)
	for _, tc := range []struct {
		path string
		code int
		desc string
	}{
		{"/bot123456:wrong/getMe", 401, "Unauthorized"},
		{"/bot" + Token + "/noSuchMethod", 404, "Not Found"},
		{"/bot" + Token + "/getme", 200, ""},
		{"/file/bot" + Token + "/documents/none.pdf", 404, "Not Found"},
	} {
		resp, err := http.Get(s.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var r apiResp
		_ = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if resp.StatusCode != tc.code || r.Description != tc.desc || (tc.code != 200 && r.ErrorCode != tc.code) {
			t.Errorf("GET %s = %d %+v, want %d %q", tc.path, resp.StatusCode, r, tc.code, tc.desc)
		}
	}
}

func TestParamsEncodings(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	u := s.User("Lan")
	u.Start("")
	id := strconv.FormatInt(u.ID(), 10)
	// JSON body with a nested object.
	body := `{"chat_id":` + id + `,"text":"json","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}}`
	resp, err := http.Post(s.URL+"/bot"+Token+"/sendMessage", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("json sendMessage: %v %v", resp, err)
	}
	resp.Body.Close()
	// Query string.
	resp, err = http.Get(s.URL + "/bot" + Token + "/sendMessage?chat_id=" + id + "&text=query")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("query sendMessage: %v %v", resp, err)
	}
	resp.Body.Close()
	got := u.Messages()
	if len(got) != 2 || got[0].Text != "json" || got[1].Text != "query" {
		t.Fatalf("messages = %+v", got)
	}
	if want := [][]Button{{{Text: "A", CallbackData: "a"}}}; !cmp.Equal(got[0].Buttons, want) {
		t.Errorf("buttons: %s", cmp.Diff(want, got[0].Buttons))
	}
}

func TestGetUpdatesConfirm(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	u := s.User("Lan")
	first := u.Start("cell_42")
	second := u.Send("xin chào")

	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 2 {
		t.Fatalf("getUpdates = %d, %v", len(ups), err)
	}
	m := ups[0].Message
	if ups[0].UpdateID != first || m.Text != "/start cell_42" || !m.IsCommand() || m.Command() != "start" || m.CommandArguments() != "cell_42" {
		t.Errorf("first update = %+v", m)
	}
	if m.From.ID != u.ID() || m.Chat.ID != u.ID() || m.Chat.Type != "private" || m.From.LanguageCode != "vi" || m.Date == 0 {
		t.Errorf("first update from/chat = %+v %+v", m.From, m.Chat)
	}
	if ups[1].UpdateID != second || ups[1].Message.MessageID != m.MessageID+1 {
		t.Errorf("second update = %+v", ups[1])
	}
	// Not confirmed: delivered again.
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: first})
	if len(ups) != 2 {
		t.Fatalf("unconfirmed: %d updates", len(ups))
	}
	// Confirm the first only.
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: first + 1})
	if len(ups) != 1 || ups[0].UpdateID != second {
		t.Fatalf("after confirming first: %+v", ups)
	}
	// Limit.
	u.Send("ba")
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: second, Limit: 1})
	if len(ups) != 1 || ups[0].UpdateID != second {
		t.Fatalf("limit 1: %+v", ups)
	}
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: second + 2})
	if len(ups) != 0 {
		t.Fatalf("all confirmed: %+v", ups)
	}
	s.WaitIdle()
	// Confirmed updates are gone for good, even with a lower offset.
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: first})
	if len(ups) != 0 {
		t.Fatalf("confirmed came back: %+v", ups)
	}
}

func TestRedeliver(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	u := s.User("Lan")
	id := u.Send("một lần")
	ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{})
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: ups[0].UpdateID + 1})
	if len(ups) != 0 {
		t.Fatal("not confirmed")
	}
	s.Redeliver(id)
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id + 1})
	if len(ups) != 1 || ups[0].UpdateID != id || ups[0].Message.Text != "một lần" {
		t.Fatalf("redelivered = %+v", ups)
	}
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id + 1})
	if len(ups) != 0 {
		t.Fatalf("redelivered twice: %+v", ups)
	}
	s.WaitIdle()
}

func (s *Server) waitPolling(t *testing.T) {
	t.Helper()
	s.WaitUntil(func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.polling > 0
	})
}

func TestLongPollWakesUp(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	u := s.User("Lan")
	type result struct {
		ups []tgbotapi.Update
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- result{ups, err}
	}()
	s.waitPolling(t)
	id := u.Send("dậy đi")
	select {
	case r := <-done:
		if r.err != nil || len(r.ups) != 1 || r.ups[0].UpdateID != id {
			t.Fatalf("long poll = %+v", r)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("long poll took %v", time.Since(start))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll not woken")
	}
}

func TestLongPollTimeoutReturnsEmpty(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, "getUpdates", url.Values{"timeout": {"1"}})
	if !r.OK || string(r.Result) != "[]" {
		t.Fatalf("getUpdates timeout = %+v", r)
	}
}

func TestConflicts(t *testing.T) {
	s := NewServer(t)
	done := make(chan apiResp, 1)
	go func() {
		resp, err := http.PostForm(s.URL+"/bot"+Token+"/getUpdates", url.Values{"timeout": {"30"}})
		var r apiResp
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&r)
			r.Status = resp.StatusCode
			resp.Body.Close()
		}
		done <- r
	}()
	s.waitPolling(t)
	if r := call(t, s, "getUpdates", url.Values{"timeout": {"0"}}); !r.OK {
		t.Fatalf("newer poll = %+v", r)
	}
	select {
	case r := <-done:
		want := "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
		if r.Status != 409 || r.ErrorCode != 409 || r.Description != want {
			t.Errorf("older poll = %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("older poll not terminated")
	}

	if r := call(t, s, "setWebhook", url.Values{"url": {"https://example.com/hook"}}); !r.OK {
		t.Fatalf("setWebhook = %+v", r)
	}
	r := call(t, s, "getUpdates", nil)
	if want := "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"; r.ErrorCode != 409 || r.Description != want {
		t.Errorf("getUpdates with webhook = %+v", r)
	}
	call(t, s, "deleteWebhook", nil)
	if r := call(t, s, "getUpdates", nil); !r.OK {
		t.Errorf("getUpdates after deleteWebhook = %+v", r)
	}
}

func TestWebhook(t *testing.T) {
	s := NewServer(t)
	var mu sync.Mutex
	var got []tgbotapi.Update
	var secrets []string
	fails := 2
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		var u tgbotapi.Update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			t.Errorf("decode: %v", err)
		}
		got = append(got, u)
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	}))
	t.Cleanup(hook.Close)

	u := s.User("Lan")
	a := u.Start("")
	bot := newBot(t, s)
	if _, err := bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL, "secret_token": "s3cr3t_-X"}); err != nil {
		t.Fatal(err)
	}
	b := u.Send("hai")
	s.WaitIdle()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].UpdateID != a || got[1].UpdateID != b {
		t.Fatalf("webhook got %+v", got)
	}
	if !cmp.Equal(secrets, []string{"s3cr3t_-X", "s3cr3t_-X"}) {
		t.Errorf("secrets = %v", secrets)
	}
	info, err := bot.GetWebhookInfo()
	if err != nil || info.URL != hook.URL || info.PendingUpdateCount != 0 || info.LastErrorDate == 0 {
		t.Errorf("webhook info = %+v, %v", info, err)
	}
	if _, err := bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL, "secret_token": "bad token!"}); err == nil {
		t.Error("bad secret accepted")
	}
}

const markupNull = `Bad Request: can't parse inline keyboard markup: field "inline_keyboard" must be an Array of Arrays`

func TestSendMessageValidation(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	okHTML := []string{
		"<b>Họp chi bộ</b> lúc 19:30",
		"&lt;b&gt; không phải thẻ &amp; vẫn ổn &quot;x&quot; &#39; &#x1F600;",
		`<a href="https://t.me/cellbot_test_bot?start=a&amp;b">link</a>`,
		"<strong>a</strong><i>b</i><em>c</em><u>d</u><ins>e</ins><s>f</s><strike>g</strike><del>h</del>",
		`<tg-spoiler>x</tg-spoiler><span class="tg-spoiler">y</span><code>z</code><pre><code class="language-go">w</code></pre><blockquote>q</blockquote>`,
		"<b>nested <i>ok</i></b> 2 > 1",
		"<B>upper</B>",
	}
	for _, text := range okHTML {
		msg := tgbotapi.NewMessage(u.ID(), text)
		msg.ParseMode = tgbotapi.ModeHTML
		if _, err := bot.Send(msg); err != nil {
			t.Errorf("HTML %q rejected: %v", text, err)
		}
	}
	if last := u.LastMessage(); last.Text != "upper" || last.RawText != "<B>upper</B>" {
		t.Errorf("last = %+v", last)
	}
	if m := u.Messages()[1]; m.Text != `<b> không phải thẻ & vẫn ổn "x" ' 😀` {
		t.Errorf("entities decoded to %q", m.Text)
	}

	long := strings.Repeat("a", 4096)
	for _, tc := range []struct {
		name, text, mode, desc string
	}{
		{"unsupported tag", "Xin <x>chào</x>", "HTML", `Bad Request: can't parse entities: Unsupported start tag "x" at byte offset 4`},
		{"unclosed", "<b>đậm", "HTML", `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{"misnested", "<b><i>x</b></i>", "HTML", `Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{"bare ampersand", "a & b", "HTML", `Bad Request: can't parse entities: Unescaped "&" at byte offset 2: use "&amp;"`},
		{"unknown entity", "&nbsp;", "HTML", `Bad Request: can't parse entities: Unescaped "&" at byte offset 0: use "&amp;"`},
		{"bare lt", "1 < 2", "HTML", `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 2`},
		{"end tag only", "x</b>", "HTML", `Bad Request: can't parse entities: Unexpected end tag at byte offset 1`},
		{"span without class", "<span>x</span>", "HTML", `Bad Request: can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{"empty", "", "", "Bad Request: message text is empty"},
		{"blank", "  \n ", "", "Bad Request: message text is empty"},
		{"only tags", "<b> </b>", "HTML", "Bad Request: message text is empty"},
		{"too long", long + "b", "", "Bad Request: message is too long"},
		{"too long after parsing", "<b>" + long + "</b>b", "HTML", "Bad Request: message is too long"},
		{"bad parse mode", "x", "Foo", "Bad Request: unsupported parse_mode"},
		{"null keyboard", "x", "", markupNull},
		{"null row", "x", "", markupNull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{"chat_id": {strconv.FormatInt(u.ID(), 10)}, "text": {tc.text}, "parse_mode": {tc.mode}}
			switch tc.name {
			case "null keyboard":
				v.Set("reply_markup", `{"inline_keyboard":null}`)
			case "null row":
				v.Set("reply_markup", `{"inline_keyboard":[[{"text":"a","callback_data":"b"}],null]}`)
			}
			r := call(t, s, "sendMessage", v)
			if r.Status != 400 || r.ErrorCode != 400 || r.Description != tc.desc {
				t.Errorf("got %d %q, want 400 %q", r.Status, r.Description, tc.desc)
			}
		})
	}
	// Exactly 4096 visible characters pass, markup not counted; UTF-16 units are counted.
	for _, text := range []string{long, "<b>" + long + "</b>", strings.Repeat("😀", 2048)} {
		msg := tgbotapi.NewMessage(u.ID(), text)
		msg.ParseMode = tgbotapi.ModeHTML
		if _, err := bot.Send(msg); err != nil {
			t.Errorf("4096 rejected: %v", err)
		}
	}
	if _, err := bot.Send(tgbotapi.NewMessage(u.ID(), strings.Repeat("😀", 2048)+"a")); err == nil {
		t.Error("4097 UTF-16 units accepted")
	}
	if _, err := bot.Send(tgbotapi.NewMessage(-100999, "x")); apiErr(t, err).Message != "Bad Request: chat not found" {
		t.Errorf("unknown chat: %v", err)
	}
	if n := len(s.Requests("sendMessage")); n < 20 {
		t.Errorf("recorded %d sendMessage requests", n)
	}
}

func TestCallbackData(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	for _, tc := range []struct {
		data string
		ok   bool
	}{
		{strings.Repeat("x", 64), true},
		{strings.Repeat("ư", 32), true}, // 64 bytes
		{strings.Repeat("x", 65), false},
		{strings.Repeat("ư", 33), false},
		{"", false},
	} {
		msg := tgbotapi.NewMessage(u.ID(), "chọn")
		msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Có", tc.data)))
		_, err := bot.Send(msg)
		if tc.ok && err != nil {
			t.Errorf("%d bytes rejected: %v", len(tc.data), err)
		}
		if !tc.ok && (err == nil || apiErr(t, err).Message != "Bad Request: BUTTON_DATA_INVALID") {
			t.Errorf("%d bytes: %v", len(tc.data), err)
		}
	}
}

func TestForbidden(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	bot := newBot(t, s)
	u := s.User("Hùng")
	_, err := bot.Send(tgbotapi.NewMessage(u.ID(), "chào"))
	if e := apiErr(t, err); e.Code != 403 || e.Message != "Forbidden: bot can't initiate conversation with a user" {
		t.Errorf("not started: %+v", e)
	}
	u.Start("")
	if _, err := bot.Send(tgbotapi.NewMessage(u.ID(), "chào")); err != nil {
		t.Fatal(err)
	}
	u.Block()
	_, err = bot.Send(tgbotapi.NewMessage(u.ID(), "chào"))
	if e := apiErr(t, err); e.Code != 403 || e.Message != "Forbidden: bot was blocked by the user" {
		t.Errorf("blocked: %+v", e)
	}
	u.Unblock()
	if _, err := bot.Send(tgbotapi.NewMessage(u.ID(), "chào")); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Delivered[u.ID()]; got != 2 {
		t.Errorf("delivered = %d", got)
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("per private chat", func(t *testing.T) {
		clock := newClock()
		s := NewServer(t, WithClock(clock.Now))
		bot := newBot(t, s)
		u := s.User("Lan")
		u.Start("")
		for i := range 3 {
			if _, err := bot.Send(tgbotapi.NewMessage(u.ID(), "burst")); err != nil {
				t.Fatalf("burst %d: %v", i, err)
			}
		}
		_, err := bot.Send(tgbotapi.NewMessage(u.ID(), "too fast"))
		e := apiErr(t, err)
		if e.Code != 429 || e.Message != "Too Many Requests: retry after 1" || e.RetryAfter != 1 {
			t.Errorf("4th = %+v", e)
		}
		if n := len(u.Messages()); n != 3 {
			t.Errorf("rejected message stored: %d", n)
		}
		clock.Advance(time.Second)
		if _, err := bot.Send(tgbotapi.NewMessage(u.ID(), "later")); err != nil {
			t.Errorf("after 1s: %v", err)
		}
		if s.Stats().TooManyRequests != 1 {
			t.Errorf("stats = %+v", s.Stats())
		}
	})
	t.Run("per group", func(t *testing.T) {
		clock := newClock()
		s := NewServer(t, WithClock(clock.Now))
		g := s.Group("Chi bộ Khu phố 3")
		for i := range 20 {
			if r := call(t, s, "sendMessage", url.Values{"chat_id": {strconv.FormatInt(g.ID(), 10)}, "text": {"x"}}); !r.OK {
				t.Fatalf("group msg %d: %+v", i, r)
			}
		}
		r := call(t, s, "sendMessage", url.Values{"chat_id": {strconv.FormatInt(g.ID(), 10)}, "text": {"x"}})
		if r.Status != 429 || r.Parameters.RetryAfter != 3 || r.Description != "Too Many Requests: retry after 3" {
			t.Errorf("21st = %+v", r)
		}
	})
	t.Run("global", func(t *testing.T) {
		clock := newClock()
		s := NewServer(t, WithClock(clock.Now))
		var users []*User
		for range 31 {
			u := s.User("Thành viên")
			u.Start("")
			users = append(users, u)
		}
		for i, u := range users[:30] {
			if r := call(t, s, "sendMessage", url.Values{"chat_id": {strconv.FormatInt(u.ID(), 10)}, "text": {"x"}}); !r.OK {
				t.Fatalf("msg %d: %+v", i, r)
			}
		}
		r := call(t, s, "sendMessage", url.Values{"chat_id": {strconv.FormatInt(users[30].ID(), 10)}, "text": {"x"}})
		if r.Status != 429 || r.Parameters.RetryAfter != 1 {
			t.Errorf("31st = %+v", r)
		}
		// 100 ms later the global bucket holds 3 tokens again.
		clock.Advance(100 * time.Millisecond)
		for i, u := range users[:4] {
			r := call(t, s, "sendMessage", url.Values{"chat_id": {strconv.FormatInt(u.ID(), 10)}, "text": {"x"}})
			if ok := i < 3; r.OK != ok {
				t.Errorf("after 100ms #%d = %+v", i, r)
			}
		}
	})
	t.Run("custom limits", func(t *testing.T) {
		clock := newClock()
		s := NewServer(t, WithClock(clock.Now), WithLimits(Limits{PerChat: Bucket{PerSecond: 0.5, Burst: 1}}))
		u := s.User("Lan")
		u.Start("")
		id := strconv.FormatInt(u.ID(), 10)
		call(t, s, "sendMessage", url.Values{"chat_id": {id}, "text": {"x"}})
		r := call(t, s, "sendMessage", url.Values{"chat_id": {id}, "text": {"x"}})
		if r.Parameters.RetryAfter != 2 {
			t.Errorf("retry_after = %+v", r)
		}
	})
}

func TestFaultInjection(t *testing.T) {
	s := NewServer(t, WithoutLimits(), WithFlood(3))
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	var errs []int
	for range 6 {
		_, err := bot.Send(tgbotapi.NewMessage(u.ID(), "x"))
		if err != nil {
			e := apiErr(t, err)
			if e.Code != 429 || e.RetryAfter != 1 {
				t.Errorf("flood error = %+v", e)
			}
			errs = append(errs, e.Code)
		}
	}
	if len(errs) != 2 || len(u.Messages()) != 4 {
		t.Errorf("flood: %d errors, %d messages", len(errs), len(u.Messages()))
	}
	s.SetFlood(0)
	s.FailNext("sendMessage", 502, "Bad Gateway")
	_, err := bot.Send(tgbotapi.NewMessage(u.ID(), "x"))
	if e := apiErr(t, err); e.Code != 502 || e.Message != "Bad Gateway" {
		t.Errorf("FailNext = %+v", e)
	}
	if _, err := bot.Send(tgbotapi.NewMessage(u.ID(), "x")); err != nil {
		t.Errorf("after FailNext: %v", err)
	}
	s.FailNext("getUpdates", 429, "Too Many Requests: retry after 7")
	_, err = bot.GetUpdates(tgbotapi.UpdateConfig{})
	if e := apiErr(t, err); e.RetryAfter != 7 {
		t.Errorf("FailNext 429 = %+v", e)
	}
	st := s.Stats()
	if st.Requests["sendMessage"] != 8 || st.TooManyRequests != 3 || st.Delivered[u.ID()] != 5 {
		t.Errorf("stats = %+v", st)
	}
}

func TestEdits(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Có", "yes")))
	msg := tgbotapi.NewMessage(u.ID(), "<b>Họp</b>")
	msg.ParseMode = tgbotapi.ModeHTML
	msg.ReplyMarkup = kb
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	edit := tgbotapi.NewEditMessageTextAndMarkup(u.ID(), sent.MessageID, "<b>Họp</b>", kb)
	edit.ParseMode = tgbotapi.ModeHTML
	_, err = bot.Send(edit)
	if e := apiErr(t, err); e.Message != "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message" {
		t.Errorf("not modified = %+v", e)
	}
	// Same visible text, different entities: modified.
	edit = tgbotapi.NewEditMessageTextAndMarkup(u.ID(), sent.MessageID, "<i>Họp</i>", kb)
	edit.ParseMode = tgbotapi.ModeHTML
	if _, err := bot.Send(edit); err != nil {
		t.Errorf("entity change: %v", err)
	}
	// Text edit without reply_markup removes the keyboard.
	if _, err := bot.Send(tgbotapi.NewEditMessageText(u.ID(), sent.MessageID, "Đã chốt")); err != nil {
		t.Fatal(err)
	}
	got := u.LastMessage()
	if got.Text != "Đã chốt" || got.Buttons != nil || got.Edits != 2 {
		t.Errorf("after edits = %+v", got)
	}
	if _, err := bot.Request(tgbotapi.NewEditMessageReplyMarkup(u.ID(), sent.MessageID, kb)); err != nil {
		t.Errorf("editMessageReplyMarkup: %v", err)
	}
	if _, err := bot.Request(tgbotapi.NewEditMessageReplyMarkup(u.ID(), sent.MessageID, kb)); err == nil {
		t.Error("same markup accepted")
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(u.ID(), 999, "x"))
	if e := apiErr(t, err); e.Message != "Bad Request: message to edit not found" {
		t.Errorf("unknown edit = %+v", e)
	}
	if _, err := bot.Request(tgbotapi.PinChatMessageConfig{ChatID: u.ID(), MessageID: sent.MessageID}); err != nil {
		t.Errorf("pin: %v", err)
	}
	if _, err := bot.Request(tgbotapi.NewDeleteMessage(u.ID(), sent.MessageID)); err != nil {
		t.Errorf("delete: %v", err)
	}
	_, err = bot.Request(tgbotapi.NewDeleteMessage(u.ID(), sent.MessageID))
	if e := apiErr(t, err); e.Message != "Bad Request: message to delete not found" {
		t.Errorf("second delete = %+v", e)
	}
	if m := u.Messages()[0]; !m.Deleted || m.Pinned {
		t.Errorf("deleted message = %+v", m)
	}
}

func TestPressAndAnswer(t *testing.T) {
	clock := newClock()
	s := NewServer(t, WithoutLimits(), WithClock(clock.Now))
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	for _, label := range []string{"Cũ", "Có mặt"} {
		msg := tgbotapi.NewMessage(u.ID(), "Bạn có đến họp?")
		msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData(label, "att:"+label),
			tgbotapi.NewInlineKeyboardButtonURL("Xem", "https://example.com")))
		if _, err := bot.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{})
	offset := ups[len(ups)-1].UpdateID + 1
	id := u.Press("Có mặt")
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: offset})
	if len(ups) != 1 || ups[0].UpdateID != id || ups[0].CallbackQuery == nil {
		t.Fatalf("press = %+v", ups)
	}
	q := ups[0].CallbackQuery
	if q.Data != "att:Có mặt" || q.From.ID != u.ID() || q.Message.MessageID != u.Messages()[1].MessageID || q.Message.Chat.ID != u.ID() || q.ChatInstance == "" {
		t.Errorf("callback query = %+v", q)
	}
	if _, err := bot.Request(tgbotapi.NewCallback(q.ID, "Đã ghi nhận")); err != nil {
		t.Errorf("answer: %v", err)
	}
	const tooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid"
	_, err := bot.Request(tgbotapi.NewCallback(q.ID, ""))
	if e := apiErr(t, err); e.Message != tooOld {
		t.Errorf("second answer = %+v", e)
	}
	_, err = bot.Request(tgbotapi.NewCallback("nope", ""))
	if e := apiErr(t, err); e.Message != tooOld {
		t.Errorf("unknown id = %+v", e)
	}
	u.Press("Cũ")
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id + 1})
	clock.Advance(16 * time.Second)
	_, err = bot.Request(tgbotapi.NewCallback(ups[0].CallbackQuery.ID, ""))
	if e := apiErr(t, err); e.Message != tooOld {
		t.Errorf("expired = %+v", e)
	}
	u.Press("Có mặt")
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: ups[0].UpdateID + 1})
	if _, err := bot.Request(tgbotapi.NewCallback(ups[0].CallbackQuery.ID, strings.Repeat("x", 201))); err == nil {
		t.Error("201-char answer accepted")
	}
}

func TestGroups(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	bot := newBot(t, s)
	g := s.Group("Chi bộ Khu phố 3")
	if g.ID() > -1000000000000 {
		t.Errorf("group id %d", g.ID())
	}
	sec, lan := s.User("Bí thư"), s.User("Lan")
	g.AddAdmin(sec)
	g.Add(lan)
	if id := lan.SendIn(g, "chào cả nhà"); id != 0 {
		t.Errorf("privacy mode: plain group message delivered as %d", id)
	}
	id := sec.SendIn(g, "/hop@"+BotUsername)
	ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if len(ups) != 1 || ups[0].UpdateID != id || ups[0].Message.Chat.Title != "Chi bộ Khu phố 3" || ups[0].Message.Chat.Type != "supergroup" || ups[0].Message.Command() != "hop" {
		t.Fatalf("group update = %+v", ups)
	}
	sent, err := bot.Send(tgbotapi.NewMessage(g.ID(), "Họp lúc 19:30"))
	if err != nil {
		t.Fatal(err)
	}
	rid := lan.Reply(s.Messages(g.ID())[0], "Em đến")
	ups, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id + 1})
	if len(ups) != 1 || ups[0].UpdateID != rid || ups[0].Message.ReplyToMessage == nil || ups[0].Message.ReplyToMessage.MessageID != sent.MessageID {
		t.Fatalf("reply update = %+v", ups)
	}
	m, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: g.ID(), UserID: sec.ID()}})
	if err != nil || m.Status != "creator" {
		t.Errorf("creator = %+v %v", m, err)
	}
	m, err = bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: g.ID(), UserID: lan.ID()}})
	if err != nil || m.Status != "member" {
		t.Errorf("member = %+v %v", m, err)
	}
	admins, err := bot.GetChatAdministrators(tgbotapi.ChatAdministratorsConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: g.ID()}})
	if err != nil || len(admins) != 2 || admins[0].User.ID != sec.ID() || admins[1].User.ID != BotID {
		t.Errorf("admins = %+v %v", admins, err)
	}
	c, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: g.ID()}})
	if err != nil || c.Title != "Chi bộ Khu phố 3" {
		t.Errorf("getChat = %+v %v", c, err)
	}
	// A button in the group.
	msg := tgbotapi.NewMessage(g.ID(), "Điểm danh")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Có mặt", "here")))
	if _, err := bot.Send(msg); err != nil {
		t.Fatal(err)
	}
	lan.PressIn(g.ID(), "Có mặt")
	s.WaitMessage(g.ID(), "Điểm danh")
}

func TestFiles(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	content := []byte("%PDF-1.4 nghị quyết")
	id := u.SendDocument("nghi-quyet.pdf", content, "Nghị quyết quý II")
	ups, _ := bot.GetUpdates(tgbotapi.UpdateConfig{})
	up := ups[len(ups)-1]
	if up.UpdateID != id || up.Message.Document == nil || up.Message.Caption != "Nghị quyết quý II" {
		t.Fatalf("document update = %+v", up.Message)
	}
	d := up.Message.Document
	if d.FileName != "nghi-quyet.pdf" || d.MimeType != "application/pdf" || d.FileSize != len(content) || d.FileUniqueID == "" {
		t.Errorf("document = %+v", d)
	}
	f, err := bot.GetFile(tgbotapi.FileConfig{FileID: d.FileID})
	if err != nil || f.FilePath == "" {
		t.Fatalf("getFile = %+v %v", f, err)
	}
	resp, err := http.Get(s.URL + "/file/bot" + Token + "/" + f.FilePath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, content) {
		t.Errorf("download = %d %q", resp.StatusCode, body)
	}

	// Upload a document and send it again by file_id.
	doc := tgbotapi.NewDocument(u.ID(), tgbotapi.FileBytes{Name: "bien-ban.txt", Bytes: []byte("biên bản")})
	doc.Caption = "<b>Biên bản</b>"
	doc.ParseMode = tgbotapi.ModeHTML
	sent, err := bot.Send(doc)
	if err != nil || sent.Document == nil || sent.Caption != "Biên bản" {
		t.Fatalf("sendDocument = %+v %v", sent, err)
	}
	if _, err := bot.Send(tgbotapi.NewDocument(u.ID(), tgbotapi.FileID(sent.Document.FileID))); err != nil {
		t.Errorf("resend by id: %v", err)
	}
	doc = tgbotapi.NewDocument(u.ID(), tgbotapi.FileID(sent.Document.FileID))
	doc.Caption = strings.Repeat("x", 1025)
	_, err = bot.Send(doc)
	if e := apiErr(t, err); e.Message != "Bad Request: message caption is too long" {
		t.Errorf("long caption = %+v", e)
	}
	_, err = bot.Send(tgbotapi.NewDocument(u.ID(), tgbotapi.FileID("nope")))
	if e := apiErr(t, err); e.Message != "Bad Request: wrong file identifier/HTTP URL specified" {
		t.Errorf("bad file id = %+v", e)
	}
	if m := u.LastMessage(); m.DocumentFileID != sent.Document.FileID {
		t.Errorf("last = %+v", m)
	}

	// Photos must be images.
	var png1 bytes.Buffer
	_ = png.Encode(&png1, image.NewRGBA(image.Rect(0, 0, 4, 3)))
	ph, err := bot.Send(tgbotapi.NewPhoto(u.ID(), tgbotapi.FileBytes{Name: "a.png", Bytes: png1.Bytes()}))
	if err != nil || len(ph.Photo) != 1 || ph.Photo[0].Width != 4 {
		t.Errorf("sendPhoto = %+v %v", ph.Photo, err)
	}
	_, err = bot.Send(tgbotapi.NewPhoto(u.ID(), tgbotapi.FileBytes{Name: "a.png", Bytes: []byte("not an image")}))
	if err == nil || !strings.Contains(err.Error(), "IMAGE_PROCESS_FAILED") {
		t.Errorf("bad photo: %v", err)
	}
}

func TestCommands(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	cmds := []tgbotapi.BotCommand{{Command: "start", Description: "Bắt đầu"}, {Command: "lich_hop", Description: "Lịch họp"}}
	if _, err := bot.Request(tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), "vi", cmds...)); err != nil {
		t.Fatal(err)
	}
	want := []Command{{"start", "Bắt đầu"}, {"lich_hop", "Lịch họp"}}
	if got := s.Commands("vi"); !cmp.Equal(got, want) {
		t.Errorf("commands: %s", cmp.Diff(want, got))
	}
	if got := s.Commands(""); len(got) != 0 {
		t.Errorf("no-language commands = %v", got)
	}
	got, err := bot.GetMyCommandsWithConfig(tgbotapi.NewGetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), "vi"))
	if err != nil || len(got) != 2 {
		t.Errorf("getMyCommands = %v %v", got, err)
	}
	many := make([]tgbotapi.BotCommand, 101)
	for i := range many {
		many[i] = tgbotapi.BotCommand{Command: "c" + strconv.Itoa(i), Description: "d"}
	}
	for _, tc := range []struct {
		name string
		cmds []tgbotapi.BotCommand
		desc string
	}{
		{"upper case", []tgbotapi.BotCommand{{Command: "Start", Description: "x"}}, "Bad Request: BOT_COMMAND_INVALID"},
		{"dash", []tgbotapi.BotCommand{{Command: "lich-hop", Description: "x"}}, "Bad Request: BOT_COMMAND_INVALID"},
		{"too long name", []tgbotapi.BotCommand{{Command: strings.Repeat("a", 33), Description: "x"}}, "Bad Request: BOT_COMMAND_INVALID"},
		{"empty description", []tgbotapi.BotCommand{{Command: "a", Description: ""}}, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"},
		{"long description", []tgbotapi.BotCommand{{Command: "a", Description: strings.Repeat("ơ", 257)}}, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"},
		{"too many", many, "Bad Request: BOT_COMMANDS_TOO_MUCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bot.Request(tgbotapi.NewSetMyCommands(tc.cmds...))
			if e := apiErr(t, err); e.Code != 400 || e.Message != tc.desc {
				t.Errorf("got %+v, want %q", e, tc.desc)
			}
		})
	}
	if _, err := bot.Request(tgbotapi.NewDeleteMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), "vi")); err != nil {
		t.Fatal(err)
	}
	if got := s.Commands("vi"); len(got) != 0 {
		t.Errorf("after delete = %v", got)
	}
}

// TestCommandsByChatScope: a chat or chat_member scope names a chat the bot
// knows, and its list is kept apart from the default one.
func TestCommandsByChatScope(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	g := s.Group("Chi bộ")
	g.Add(u)
	cmds := []tgbotapi.BotCommand{{Command: "members", Description: "Danh sách"}}
	if _, err := bot.Request(tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(u.ID()), cmds...)); err != nil {
		t.Fatal(err)
	}
	if _, err := bot.Request(tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeChatMember(g.ID(), u.ID()), "en", cmds...)); err != nil {
		t.Fatal(err)
	}
	if got := s.CommandsFor("chat:"+strconv.FormatInt(u.ID(), 10), ""); len(got) != 1 || got[0].Command != "members" {
		t.Errorf("chat scope = %v", got)
	}
	if got := s.CommandsFor("chat_member:"+strconv.FormatInt(g.ID(), 10)+":"+strconv.FormatInt(u.ID(), 10), "en"); len(got) != 1 {
		t.Errorf("chat_member scope = %v", got)
	}
	if got := s.Commands(""); len(got) != 0 {
		t.Errorf("default scope = %v", got)
	}
	_, err := bot.Request(tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(424242), cmds...))
	if e := apiErr(t, err); e.Code != 400 || e.Message != "Bad Request: chat not found" {
		t.Errorf("unknown chat: %+v", e)
	}
	if _, err := bot.Request(tgbotapi.NewDeleteMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(u.ID()))); err != nil {
		t.Fatal(err)
	}
	if got := s.CommandsFor("chat:"+strconv.FormatInt(u.ID(), 10), ""); len(got) != 0 {
		t.Errorf("after delete = %v", got)
	}
}

func TestWaitHelpers(t *testing.T) {
	s := NewServer(t, WithoutLimits())
	bot := newBot(t, s)
	u := s.User("Lan")
	u.Start("")
	go func() {
		msg := tgbotapi.NewMessage(u.ID(), "Nhắc: <b>họp chi bộ</b> 19:30")
		msg.ParseMode = tgbotapi.ModeHTML
		sent, err := bot.Send(msg)
		if err != nil {
			return
		}
		_, _ = bot.Send(tgbotapi.NewEditMessageText(u.ID(), sent.MessageID, "Hoãn họp"))
	}()
	m := u.WaitMessage("Hoãn")
	if m.Edits != 1 || m.Text != "Hoãn họp" {
		t.Errorf("waited = %+v", m)
	}
	s.WaitUntil(func() bool { return len(s.Requests("editMessageText")) == 1 })
}
