package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Params are a request's parameters, form-encoded by the library; nested objects
// travel as JSON strings.
type Params map[string]string

// Request is one Bot API call.
type Request interface {
	Method() string
	Params() Params
}

// Caller makes Bot API calls. It is the whole surface the rest of the project needs.
type Caller interface {
	// Do calls the method and decodes its result into result (which may be nil).
	Do(ctx context.Context, req Request, result any) error
}

// Raw is a request given by name and parameters, as the delivery queue stores it.
// Files, when given, go as multipart parts beside the parameters (a parameter
// refers to one as "attach://" and its field): small uploads such as a QR code
// can then wait in the queue like any message.
type Raw struct {
	Name   string    `json:"method"`
	Values Params    `json:"params"`
	Files  []RawFile `json:"files,omitempty"`
}

// RawFile is an upload of a Raw request.
type RawFile struct {
	Field string `json:"field"`
	Name  string `json:"name"`
	Data  []byte `json:"data"`
}

// Method implements Request.
func (r Raw) Method() string { return r.Name }

// Params implements Request.
func (r Raw) Params() Params { return r.Values }

// Client is a Caller backed by telegram-bot-api.
type Client struct {
	api      *tgbotapi.BotAPI
	http     *http.Client
	endpoint string
	token    string
	self     User
	// last is how the last Bot API call ended, for /readyz (see Reachable).
	last atomic.Pointer[callOutcome]
}

// callOutcome is how a Bot API call ended: err is nil when Telegram answered.
type callOutcome struct {
	at  time.Time
	err error
}

// New connects to the Bot API at endpoint (a format with two %s: token and method,
// as TELEGRAM_API_ENDPOINT) and calls getMe. httpClient must have a timeout longer
// than the long-poll timeout; the library's default client has none.
func New(ctx context.Context, token, endpoint string, httpClient *http.Client) (*Client, error) {
	b := &Client{http: httpClient, endpoint: endpoint, token: token}
	// NewBotAPIWithClient calls getMe at once; give it this call's context.
	api, err := tgbotapi.NewBotAPIWithClient(token, endpoint, ctxDoer{ctx: ctx, c: httpClient})
	if err != nil {
		return nil, b.redact(fmt.Errorf("telegram: getMe: %w", convertErr(err)))
	}
	api.Client = httpClient
	b.api = api
	b.self = User{ID: api.Self.ID, IsBot: true, FirstName: api.Self.FirstName, Username: api.Self.UserName}
	b.last.Store(&callOutcome{at: time.Now()})
	return b, nil
}

// Reachable reports whether the Bot API answered the last call: nil when it did
// (an error answer such as 403 is an answer too), else the call's error with
// when it was made. Calls cut short by their own context do not count.
func (b *Client) Reachable() error {
	o := b.last.Load()
	if o == nil || o.err == nil {
		return nil
	}
	return b.redact(fmt.Errorf("last call at %s: %w", o.at.UTC().Format(time.RFC3339), o.err))
}

// record notes how a call ended, for Reachable. err must be redacted already:
// it is kept, and /readyz logs it.
func (b *Client) record(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil {
		return // the caller gave up: it says nothing of Telegram
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code > 0 && apiErr.Code < 500 {
		err = nil // Telegram answered
	}
	b.last.Store(&callOutcome{at: time.Now(), err: err})
}

// Self is the bot's own user, from getMe.
func (b *Client) Self() User { return b.self }

// ctxDoer gives each library request the caller's context: the library builds its
// requests without one, so a shutdown could not otherwise abort a long poll.
type ctxDoer struct {
	ctx context.Context
	c   *http.Client
}

func (d ctxDoer) Do(req *http.Request) (*http.Response, error) { return d.c.Do(req.WithContext(d.ctx)) }

// withContext returns a shallow copy of the library's client whose requests carry ctx.
func (b *Client) withContext(ctx context.Context) *tgbotapi.BotAPI {
	api := *b.api
	api.Client = ctxDoer{ctx: ctx, c: b.http}
	return &api
}

// Do implements Caller. Requests that carry an upload (Upload) go as multipart.
func (b *Client) Do(ctx context.Context, req Request, result any) error {
	return b.redact(b.do(ctx, req, result))
}

func (b *Client) do(ctx context.Context, req Request, result any) error {
	api := b.withContext(ctx)
	var (
		resp *tgbotapi.APIResponse
		err  error
	)
	if up, ok := req.(Upload); ok {
		files := []tgbotapi.RequestFile{{Name: up.Field, Data: tgbotapi.FileBytes{Name: up.FileName, Bytes: up.Data}}}
		resp, err = api.UploadFiles(up.Method(), tgbotapi.Params(up.Params()), files)
	} else if raw, ok := req.(Raw); ok && len(raw.Files) > 0 {
		files := make([]tgbotapi.RequestFile, len(raw.Files))
		for i, f := range raw.Files {
			files[i] = tgbotapi.RequestFile{Name: f.Field, Data: tgbotapi.FileBytes{Name: f.Name, Bytes: f.Data}}
		}
		resp, err = api.UploadFiles(raw.Method(), tgbotapi.Params(raw.Params()), files)
	} else {
		resp, err = api.MakeRequest(req.Method(), tgbotapi.Params(req.Params()))
	}
	err = b.redact(convertErr(err))
	b.record(ctx, err)
	if err != nil {
		return fmt.Errorf("telegram: %s: %w", req.Method(), err)
	}
	if result == nil || resp == nil || len(resp.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return fmt.Errorf("telegram: %s: decode result: %w", req.Method(), err)
	}
	return nil
}

// Download fetches a file's content by file_id: getFile, then a GET of the file
// address. The library's GetFileDirectURL always points at api.telegram.org
// whatever the endpoint, so the address is built from the endpoint: its base with /file
// before /bot.
func (b *Client) Download(ctx context.Context, fileID string, maxBytes int64) ([]byte, error) {
	data, err := b.download(ctx, fileID, maxBytes)
	return data, b.redact(err)
}

func (b *Client) download(ctx context.Context, fileID string, maxBytes int64) ([]byte, error) {
	var f File
	if err := b.do(ctx, Raw{Name: "getFile", Values: Params{"file_id": fileID}}, &f); err != nil {
		return nil, err
	}
	if maxBytes > 0 && f.FileSize > maxBytes {
		return nil, fmt.Errorf("telegram: file %s is %d bytes: %w", fileID, f.FileSize, ErrFileTooBig)
	}
	i := strings.Index(b.endpoint, "/bot%s")
	if i < 0 {
		return nil, fmt.Errorf("telegram: endpoint %q has no /bot%%s to build a file address from", b.endpoint)
	}
	addr := b.endpoint[:i] + "/file/bot" + b.token + "/" + f.FilePath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return nil, fmt.Errorf("telegram: download %s: %w", fileID, err)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram: download %s: %w", fileID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("telegram: download %s: HTTP %d", fileID, resp.StatusCode)
	}
	limit := maxBytes
	if limit <= 0 {
		limit = 20 << 20
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("telegram: download %s: %w", fileID, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("telegram: file %s: %w", fileID, ErrFileTooBig)
	}
	return data, nil
}

// ErrFileTooBig is returned by Download for a file over the given size.
var ErrFileTooBig = errors.New("file too big")

// APIError is an error answer of the Bot API.
type APIError struct {
	Code        int
	Description string
	RetryAfter  time.Duration
}

func (e *APIError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("bot api %d: %s (retry after %s)", e.Code, e.Description, e.RetryAfter)
	}
	return fmt.Sprintf("bot api %d: %s", e.Code, e.Description)
}

func convertErr(err error) error {
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		e := &APIError{Code: te.Code, Description: te.Message}
		if te.RetryAfter > 0 {
			e.RetryAfter = time.Duration(te.RetryAfter) * time.Second
		}
		// Upload errors come with Code 0 in telegram-bot-api v5: recover it from the text.
		if e.Code == 0 {
			switch {
			case e.RetryAfter > 0 || strings.HasPrefix(te.Message, "Too Many Requests"):
				e.Code = http.StatusTooManyRequests
			case strings.HasPrefix(te.Message, "Forbidden"):
				e.Code = http.StatusForbidden
			case strings.HasPrefix(te.Message, "Bad Request"):
				e.Code = http.StatusBadRequest
			}
		}
		return e
	}
	return err
}

// redact keeps the token out of an error leaving the client. Every exported
// method returns through it: the library and net/http put the token in the
// request address, and a *url.Error quotes that address whatever went wrong
// (a refused connection, a cut one, a file_path that does not parse).
func (b *Client) redact(err error) error { return redactErr(err, b.token) }

// redactErr returns err with the token replaced by <token>, in its text and in
// every error it wraps, so that neither err.Error() nor an errors.As that digs
// out the *url.Error underneath can carry the token out. An error without the
// token is returned as it is; a *url.Error or *APIError stays one (errors.As and
// a timeout's Timeout() still work), and sentinels underneath, such as
// context.Canceled, still answer errors.Is.
func redactErr(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	forms := []string{token}
	for _, f := range []string{url.PathEscape(token), url.QueryEscape(token)} {
		if f != token && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, "<token>")
	}
	return redactTree(err, forms, strings.NewReplacer(pairs...))
}

func redactTree(err error, forms []string, r *strings.Replacer) error {
	if err == nil || !containsAny(err.Error(), forms) {
		return err
	}
	switch e := err.(type) {
	case *url.Error:
		return &url.Error{Op: e.Op, URL: r.Replace(e.URL), Err: redactTree(e.Err, forms, r)}
	case *APIError:
		c := *e
		c.Description = r.Replace(e.Description)
		return &c
	}
	out := &redacted{msg: r.Replace(err.Error())}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			out.next = []error{redactTree(next, forms, r)}
		}
	case interface{ Unwrap() []error }:
		for _, next := range u.Unwrap() {
			out.next = append(out.next, redactTree(next, forms, r))
		}
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// redacted stands for an error whose text held the token: its text without
// it, and the errors it wrapped, redacted in turn.
type redacted struct {
	msg  string
	next []error
}

func (r *redacted) Error() string   { return r.msg }
func (r *redacted) Unwrap() []error { return r.next }

func apiError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// RetryAfter reports how long to wait after a 429.
func RetryAfter(err error) (time.Duration, bool) {
	e, ok := apiError(err)
	if !ok || e.Code != http.StatusTooManyRequests {
		return 0, false
	}
	if e.RetryAfter <= 0 {
		return time.Second, true
	}
	return e.RetryAfter, true
}

// IsForbidden reports a 403: the user blocked the bot or never opened it, or the
// bot is no longer in the group. Retrying does not help.
func IsForbidden(err error) bool {
	e, ok := apiError(err)
	return ok && e.Code == http.StatusForbidden
}

// IsNotModified reports an edit that changed nothing, which is not a failure.
func IsNotModified(err error) bool {
	e, ok := apiError(err)
	return ok && e.Code == http.StatusBadRequest && strings.Contains(e.Description, "message is not modified")
}

// IsConflict reports a 409: another poller, or a webhook, holds the updates.
func IsConflict(err error) bool {
	e, ok := apiError(err)
	return ok && e.Code == http.StatusConflict
}

// IsPermanent reports an error that a retry cannot fix.
func IsPermanent(err error) bool {
	e, ok := apiError(err)
	if !ok {
		return false
	}
	return e.Code >= 400 && e.Code < 500 && e.Code != http.StatusTooManyRequests && e.Code != http.StatusConflict
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
