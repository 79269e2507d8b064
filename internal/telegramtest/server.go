package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Identity of the fake bot.
const (
	// Token is the only token the server accepts.
	Token = "123456:TEST-token"
	// BotID is the bot's user id returned by getMe.
	BotID int64 = 7000001
	// BotFirstName is the bot's first_name returned by getMe.
	BotFirstName = "Cellbot Test"
	// BotUsername is the bot's username returned by getMe (without "@").
	BotUsername = "cellbot_test_bot"
)

const (
	maxTextLen        = 4096
	maxCaptionLen     = 1024
	maxCallbackData   = 64
	maxAnswerTextLen  = 200
	callbackQueryTTL  = 15 * time.Second
	maxPollTimeout    = 50
	defaultWait       = 10 * time.Second
	firstUpdateID     = 100001
	firstUserID       = 500000001
	firstGroupID      = -1001000000001
	firstBasicGroupID = -4000000001
	webhookMaxBackoff = 2 * time.Second
	maxDeleteAge      = 48 * time.Hour
	maxDownloadSize   = 20 << 20
)

// Server is a fake Telegram Bot API server. Create it with NewServer.
type Server struct {
	*httptest.Server
	// Token is the bot token the server accepts (the constant Token).
	Token string

	t       testing.TB
	now     func() time.Time
	wait    time.Duration
	privacy bool

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	done    chan struct{} // closed when the server shuts down

	limitsOn bool
	global   *bucket
	limits   Limits
	buckets  map[int64]*bucket
	flood    int
	sendSeen int
	failures map[string][]apiError

	nextUpdateID int
	queue        []*update
	allUpdates   map[int]*update
	allowed      []string
	pollGen      int
	polling      int // long polls waiting now

	webhook       *webhookState
	webhookCancel context.CancelFunc
	webhookDone   chan struct{}

	nextUserID  int64
	nextGroupID int64
	nextBasicID int64 // basic groups, before they become supergroups
	users       map[int64]*userState
	chats       map[int64]*chat
	files       map[string]*file
	nextFileID  int
	queries     map[string]*callbackQuery
	nextQueryID int
	commands    map[string][]Command

	requests []Request
	stats    Stats

	holds map[string]chan struct{} // methods whose calls wait, see Hold
	held  map[string]int           // calls that reached a hold, per method
}

// Option configures a Server.
type Option func(*Server)

// WithoutLimits turns the flood limits off.
func WithoutLimits() Option { return func(s *Server) { s.limitsOn = false } }

// WithLimits replaces the default flood limits (DefaultLimits).
func WithLimits(l Limits) Option {
	return func(s *Server) { s.limits = l; s.limitsOn = true }
}

// WithFlood makes every n-th sending request fail with 429 "retry after 1"
// without effect (0 turns it off).
func WithFlood(every int) Option { return func(s *Server) { s.flood = every } }

// WithClock replaces the server's clock (message dates, callback query expiry,
// rate limit buckets). Timeouts of long polls and waits use real time.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithWaitTimeout sets the deadline of the Wait* helpers (default 10 s).
func WithWaitTimeout(d time.Duration) Option { return func(s *Server) { s.wait = d } }

// NewServer starts a fake Bot API server; it is closed when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		Token:        Token,
		t:            t,
		now:          time.Now,
		wait:         defaultWait,
		privacy:      true,
		changed:      make(chan struct{}),
		done:         make(chan struct{}),
		limitsOn:     true,
		limits:       DefaultLimits(),
		buckets:      map[int64]*bucket{},
		failures:     map[string][]apiError{},
		nextUpdateID: firstUpdateID,
		allUpdates:   map[int]*update{},
		nextUserID:   firstUserID,
		nextGroupID:  firstGroupID,
		nextBasicID:  firstBasicGroupID,
		users:        map[int64]*userState{},
		chats:        map[int64]*chat{},
		files:        map[string]*file{},
		queries:      map[string]*callbackQuery{},
		commands:     map[string][]Command{},
		stats:        newStats(),
	}
	for _, o := range opts {
		o(s)
	}
	s.global = newBucket(s.limits.Global)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.shutdown)
	return s
}

// New starts a fake Bot API server outside a test, for the sandbox (package
// sandbox): where a test's server would fail the test, this one panics with a
// *Failure, which the caller recovers (see Try). Close it with Shutdown.
func New(opts ...Option) *Server {
	return NewServer(noTest{}, opts...)
}

// Failure is what a Server made by New panics with where a test's server would
// fail the test: a user pressing a button that is not there, say.
type Failure struct{ Msg string }

func (f *Failure) Error() string { return f.Msg }

// Try runs f and returns the *Failure it panicked with, if any; other panics
// go on.
func Try(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fail, ok := r.(*Failure)
			if !ok {
				panic(r)
			}
			err = fail
		}
	}()
	f()
	return nil
}

// noTest stands in for a testing.TB outside tests: Fatalf panics with a
// *Failure, Cleanup is left to the caller's Shutdown. Any other method of the
// embedded nil TB would panic; the server calls none.
type noTest struct{ testing.TB }

func (noTest) Helper()           {}
func (noTest) Cleanup(func())    {}
func (noTest) Fatal(args ...any) { panic(&Failure{Msg: fmt.Sprint(args...)}) }
func (noTest) Fatalf(format string, args ...any) {
	panic(&Failure{Msg: fmt.Sprintf(format, args...)})
}

// Shutdown ends long polls and webhook deliveries and closes the server, as
// the end of the test does for NewServer. Calling it twice does nothing.
func (s *Server) Shutdown() { s.shutdown() }

// Changed returns a channel that is closed at the next change of the server's
// state (a message, an edit, a press): for watching it live.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Server) shutdown() {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return
	default:
	}
	close(s.done)
	cancel, wdone := s.webhookCancel, s.webhookDone
	s.broadcastLocked()
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if wdone != nil {
		<-wdone
	}
	s.Server.Close()
}

// Endpoint returns the API endpoint format "<URL>/bot%s/%s" for
// tgbotapi.NewBotAPIWithAPIEndpoint and TELEGRAM_API_ENDPOINT.
func (s *Server) Endpoint() string { return s.URL + "/bot%s/%s" }

// broadcastLocked wakes everyone waiting for a state change. s.mu must be held.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// apiError is an error answer of the Bot API.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: 400, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

func forbidden(desc string) *apiError {
	return &apiError{code: 403, desc: "Forbidden: " + desc}
}

func tooMany(retry int) *apiError {
	return &apiError{code: 429, desc: fmt.Sprintf("Too Many Requests: retry after %d", retry), retryAfter: retry}
}

func conflict(desc string) *apiError {
	return &apiError{code: 409, desc: "Conflict: " + desc}
}

var (
	errNotFound     = &apiError{code: 404, desc: "Not Found"}
	errUnauthorized = &apiError{code: 401, desc: "Unauthorized"}
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	resp := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		resp["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	writeJSON(w, e.code, resp)
}

// params are the request parameters; non-string JSON values keep their JSON text.
type params map[string]string

func (p params) has(name string) bool { _, ok := p[name]; return ok && p[name] != "" }

func (p params) int64(name string) (int64, bool) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			return 0, false
		}
		n = int64(f)
	}
	return n, true
}

func (p params) bool(name string) bool {
	v := strings.ToLower(strings.TrimSpace(p[name]))
	return v == "true" || v == "1"
}

type upload struct {
	field, name, mime string
	data              []byte
}

func parseRequest(r *http.Request) (params, []upload, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p[k] = v[0]
		}
	}
	var uploads []upload
	if r.Method != http.MethodPost {
		return p, nil, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, nil, err
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			return p, nil, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, nil, err
		}
		for k, raw := range m {
			var s string
			if err := json.Unmarshal(raw, &s); err == nil {
				p[k] = s
			} else if string(raw) != "null" {
				p[k] = string(raw)
			}
		}
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, nil, err
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, nil, err
			}
			if part.FileName() != "" {
				uploads = append(uploads, upload{field: part.FormName(), name: part.FileName(), mime: part.Header.Get("Content-Type"), data: data})
			} else {
				p[part.FormName()] = string(data)
			}
			_ = part.Close()
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
	}
	return p, uploads, nil
}

type handler func(s *Server, r *http.Request, p params, up []upload) (any, *apiError)

type method struct {
	name    string
	sending bool
	h       handler
}

var methodList = []method{
	{"getMe", false, (*Server).getMe},
	{"getUpdates", false, (*Server).getUpdates},
	{"setWebhook", false, (*Server).setWebhook},
	{"deleteWebhook", false, (*Server).deleteWebhook},
	{"getWebhookInfo", false, (*Server).getWebhookInfo},
	{"sendMessage", true, (*Server).sendMessage},
	{"sendDocument", true, (*Server).sendDocument},
	{"sendPhoto", true, (*Server).sendPhoto},
	{"editMessageText", true, (*Server).editMessageText},
	{"editMessageCaption", true, (*Server).editMessageCaption},
	{"editMessageMedia", true, (*Server).editMessageMedia},
	{"editMessageReplyMarkup", true, (*Server).editMessageReplyMarkup},
	{"answerCallbackQuery", false, (*Server).answerCallbackQuery},
	{"setMyCommands", false, (*Server).setMyCommands},
	{"getMyCommands", false, (*Server).getMyCommands},
	{"deleteMyCommands", false, (*Server).deleteMyCommands},
	{"getChatMember", false, (*Server).getChatMember},
	{"getChatAdministrators", false, (*Server).getChatAdministrators},
	{"getChat", false, (*Server).getChat},
	{"pinChatMessage", false, (*Server).pinChatMessage},
	{"unpinChatMessage", false, (*Server).unpinChatMessage},
	{"deleteMessage", false, (*Server).deleteMessage},
	{"getFile", false, (*Server).getFile},
}

func lookupMethod(name string) (method, bool) {
	for _, m := range methodList {
		if strings.EqualFold(m.name, name) {
			return m, true
		}
	}
	return method{}, false
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		s.serveFile(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	token, name, ok := strings.Cut(rest, "/")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if token != s.Token {
		writeError(w, errUnauthorized)
		return
	}
	m, ok := lookupMethod(name)
	if !ok {
		writeError(w, errNotFound)
		return
	}
	p, uploads, err := parseRequest(r)
	if err != nil {
		e := badRequest("can't parse request: %v", err)
		s.record(m.name, p, uploads, e)
		writeError(w, e)
		return
	}
	if !s.waitHold(r, m.name) {
		return
	}
	if e := s.injectedFault(m); e != nil {
		s.record(m.name, p, uploads, e)
		writeError(w, e)
		return
	}
	result, e := m.h(s, r, p, uploads)
	s.record(m.name, p, uploads, e)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func (s *Server) injectedFault(m method) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.failures[m.name]; len(q) > 0 {
		e := q[0]
		s.failures[m.name] = q[1:]
		return &e
	}
	if m.sending {
		s.sendSeen++
		if s.flood > 0 && s.sendSeen%s.flood == 0 {
			return tooMany(1)
		}
	}
	return nil
}

// Hold makes calls of method (e.g. "getFile") wait, before they take effect,
// until release is called, the caller gives up, or the server closes: a handler
// can be caught in the middle of its work. Held counts the calls that waited.
func (s *Server) Hold(method string) (release func()) {
	if m, ok := lookupMethod(method); ok {
		method = m.name
	}
	ch := make(chan struct{})
	s.mu.Lock()
	if s.holds == nil {
		s.holds = map[string]chan struct{}{}
	}
	s.holds[method] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.holds[method] == ch {
				delete(s.holds, method)
			}
			close(ch)
			s.broadcastLocked()
			s.mu.Unlock()
		})
	}
}

// Held returns how many calls of method reached a hold (see Hold).
func (s *Server) Held(method string) int {
	if m, ok := lookupMethod(method); ok {
		method = m.name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[method]
}

// waitHold waits while method is held; it reports false when the caller gave up.
func (s *Server) waitHold(r *http.Request, method string) bool {
	s.mu.Lock()
	ch := s.holds[method]
	if ch != nil {
		if s.held == nil {
			s.held = map[string]int{}
		}
		s.held[method]++
		s.broadcastLocked()
	}
	s.mu.Unlock()
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-s.done:
		return true
	case <-r.Context().Done():
		return false
	}
}

// FailNext makes the next call of method (e.g. "sendMessage") fail with the
// given HTTP code and description, without effect. For 429 the retry_after
// parameter is taken from "retry after N" in the description (default 1).
func (s *Server) FailNext(method string, code int, description string) {
	e := apiError{code: code, desc: description}
	if code == http.StatusTooManyRequests {
		e.retryAfter = 1
		if _, after, ok := strings.Cut(description, "retry after "); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(after)); err == nil && n > 0 {
				e.retryAfter = n
			}
		}
	}
	if m, ok := lookupMethod(method); ok {
		method = m.name
	}
	s.mu.Lock()
	s.failures[method] = append(s.failures[method], e)
	s.mu.Unlock()
}

// SetFlood makes every n-th sending request from now on fail with 429
// "retry after 1" without effect (0 turns it off).
func (s *Server) SetFlood(every int) {
	s.mu.Lock()
	s.flood = every
	s.sendSeen = 0
	s.mu.Unlock()
}

// Request is one recorded API call.
type Request struct {
	Method string
	// Params are the parameters as received; nested objects are JSON text,
	// an uploaded file appears as "<file name>" under its field.
	Params map[string]string
	// Code is 200 for a success, otherwise the error code returned.
	Code        int
	Description string
	At          time.Time
}

func (s *Server) record(name string, p params, uploads []upload, e *apiError) {
	cp := make(map[string]string, len(p)+len(uploads))
	for k, v := range p {
		cp[k] = v
	}
	for _, u := range uploads {
		cp[u.field] = "<" + u.name + ">"
	}
	req := Request{Method: name, Params: cp, Code: 200, At: s.now()}
	if e != nil {
		req.Code, req.Description = e.code, e.desc
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.stats.Requests[name]++
	if e != nil && e.code == http.StatusTooManyRequests {
		s.stats.TooManyRequests++
	}
	s.broadcastLocked()
	s.mu.Unlock()
}

// Requests returns the recorded calls of method ("" for all), oldest first,
// including rejected ones.
func (s *Server) Requests(method string) []Request {
	if m, ok := lookupMethod(method); ok {
		method = m.name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Stats are counters of the server's activity.
type Stats struct {
	// Requests counts calls per method (canonical name), errors included.
	Requests map[string]int
	// TooManyRequests counts 429 answers.
	TooManyRequests int
	// Delivered counts messages the bot successfully sent, per chat id.
	Delivered map[int64]int
}

func newStats() Stats {
	return Stats{Requests: map[string]int{}, Delivered: map[int64]int{}}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := newStats()
	out.TooManyRequests = s.stats.TooManyRequests
	for k, v := range s.stats.Requests {
		out.Requests[k] = v
	}
	for k, v := range s.stats.Delivered {
		out.Delivered[k] = v
	}
	return out
}

// WaitUntil waits until cond returns true, re-evaluating it whenever the
// server's state changes; it fails the test at the deadline.
func (s *Server) WaitUntil(cond func() bool) {
	s.t.Helper()
	if !s.waitFor(cond) {
		s.t.Fatalf("telegramtest: condition not met within %v", s.wait)
	}
}

func (s *Server) waitFor(cond func() bool) bool {
	timer := time.NewTimer(s.wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return cond()
		}
	}
}

// WaitIdle waits until every queued update has been confirmed by the bot
// (getUpdates offset moved past it, or the webhook answered 2xx).
func (s *Server) WaitIdle() {
	s.t.Helper()
	if !s.waitFor(func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.queue) == 0
	}) {
		s.mu.Lock()
		ids := make([]int, 0, len(s.queue))
		for _, u := range s.queue {
			ids = append(ids, u.id)
		}
		s.mu.Unlock()
		s.t.Fatalf("telegramtest: updates %v not confirmed within %v", ids, s.wait)
	}
}

func sortedMembers(m map[int64]string) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
