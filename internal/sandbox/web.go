package sandbox

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

//go:embed web
var webFiles embed.FS

// maxUpload bounds a CSV sent from the page.
const maxUpload = 1 << 20

// routes serves the page and its API behind guard. loopback says the page
// listens on a loopback address only (see guard).
func (s *Sandbox) routes(loopback bool) http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFiles, "web")
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/view", s.handleView)
	mux.HandleFunc("GET /api/events", s.handleEvents)
	mux.HandleFunc("GET /api/file", s.handleFile)
	mux.HandleFunc("POST /api/send", s.handleSend)
	mux.HandleFunc("POST /api/press", s.handlePress)
	mux.HandleFunc("POST /api/upload", s.handleUpload)
	mux.HandleFunc("POST /api/clock", s.handleClock)
	return guard(mux, loopback)
}

// guard keeps other web sites from using the page through a visitor's
// browser, since the page has no login: a request that changes something
// (POST) from another origin is refused with 403 (net/http's
// CrossOriginProtection reads Sec-Fetch-Site, or compares Origin with Host), and
// the page may not be framed by another site. When the page listens on a
// loopback address only, a request must also name a loopback host: a site
// whose name is made to resolve to 127.0.0.1 (DNS rebinding) looks same-origin
// to the browser, but its requests carry its own name as Host.
func guard(next http.Handler, loopback bool) http.Handler {
	csrf := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
		if loopback && !loopbackHost(r.Host) {
			http.Error(w, "this page answers at 127.0.0.1 or localhost only", http.StatusForbidden)
			return
		}
		if err := csrf.Check(r); err != nil {
			http.Error(w, "requests from another site are refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine: localhost
// (browsers resolve every *.localhost name to the loopback address) or a
// loopback IP, with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// viewMessage is a message as the page draws it.
type viewMessage struct {
	ID      int            `json:"id"`
	FromBot bool           `json:"from_bot"`
	From    string         `json:"from"`
	Mine    bool           `json:"mine"`
	HTML    string         `json:"html"`
	Buttons [][]viewButton `json:"buttons,omitempty"`
	Edited  bool           `json:"edited"`
	Time    string         `json:"time"`
	Doc     *viewFile      `json:"doc,omitempty"`
	Photo   string         `json:"photo,omitempty"`
}

type viewButton struct {
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

type viewFile struct {
	URL  string `json:"url"`
	Name string `json:"name"`
}

type viewChat struct {
	ID       int64         `json:"id"`
	Title    string        `json:"title"`
	Messages []viewMessage `json:"messages"`
}

type view struct {
	Clock   string    `json:"clock"`
	Weekday int       `json:"weekday"` // 0 is Sunday
	Next    string    `json:"next"`
	People  []*person `json:"people"`
	As      string    `json:"as"`
	Group   viewChat  `json:"group"`
	Private viewChat  `json:"private"`
}

func (s *Sandbox) person(key string) *person {
	for _, p := range s.people {
		if p.Key == key {
			return p
		}
	}
	return s.people[0]
}

const timeLayout = "02/01/2006 15:04"

func (s *Sandbox) handleView(w http.ResponseWriter, r *http.Request) {
	p := s.person(r.URL.Query().Get("as"))
	loc := location()
	now := s.clock.Now().In(loc)
	v := view{
		Clock:   now.Format(timeLayout),
		Weekday: int(now.Weekday()),
		People:  s.people,
		As:      p.Key,
		Group:   viewChat{ID: s.group.ID(), Title: cellTitle, Messages: s.messages(s.group.ID(), p)},
		Private: viewChat{ID: p.user.ID(), Title: telegramtest.BotFirstName, Messages: s.messages(p.user.ID(), p)},
	}
	if next, ok := s.nextDue(r.Context()); ok {
		v.Next = next.In(loc).Format(timeLayout)
	}
	writeJSON(w, v)
}

func (s *Sandbox) messages(chatID int64, viewer *person) []viewMessage {
	loc := location()
	out := []viewMessage{}
	for _, m := range s.tg.Transcript(chatID) {
		if m.Deleted {
			continue
		}
		vm := viewMessage{
			ID: m.MessageID, FromBot: m.FromBot, From: m.From, Mine: !m.FromBot && m.FromID == viewer.user.ID(),
			Edited: m.Edits > 0, Time: m.Date.In(loc).Format("15:04"),
		}
		if m.FromBot {
			vm.From = telegramtest.BotFirstName
		}
		text := m.Text
		if m.DocumentFileID != "" || m.PhotoFileID != "" {
			text = m.Caption
		}
		vm.HTML = renderHTML(text, m.Entities)
		if m.DocumentFileID != "" {
			vm.Doc = &viewFile{URL: "/api/file?id=" + m.DocumentFileID, Name: m.FileName}
		}
		if m.PhotoFileID != "" {
			vm.Photo = "/api/file?id=" + m.PhotoFileID
		}
		for _, row := range m.Buttons {
			var vr []viewButton
			for _, b := range row {
				vr = append(vr, viewButton{Text: b.Text, URL: b.URL})
			}
			vm.Buttons = append(vm.Buttons, vr)
		}
		out = append(out, vm)
	}
	return out
}

// nextDue is when the scheduler's next item is due: a reminder, a notice, the
// check-in's end…
func (s *Sandbox) nextDue(ctx context.Context) (time.Time, bool) {
	items, err := s.store.DueItems(ctx, 1)
	if err != nil || len(items) == 0 {
		return time.Time{}, false
	}
	return items[0].At, true
}

// handleEvents streams a server-sent event at every change: a message, an
// edit, a move of the clock; the page then fetches its view again.
func (s *Sandbox) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()
	tick := time.NewTicker(20 * time.Second)
	defer tick.Stop()
	for {
		tgChanged, clockChanged := s.tg.Changed(), s.clock.Changed()
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-tgChanged:
		case <-clockChanged:
		case <-tick.C:
		}
		// Changes come in bursts (a notice to 74 members): one event a burst.
		select {
		case <-time.After(150 * time.Millisecond):
		case <-s.closing:
			return
		}
		if _, err := fmt.Fprint(w, "event: change\ndata: {}\n\n"); err != nil {
			return
		}
		fl.Flush()
	}
}

// handleFile serves a file of the chats. Files are what people upload, so
// none is ever shown by the browser as a page of this origin (an uploaded
// HTML or SVG file could run script with the page's rights): each goes as an
// attachment of type application/octet-stream, except that the page may ask
// for an image (the bot's chart) in place, with inline=1, and gets it with its
// type when its content is PNG, JPEG, GIF or WebP. nosniff keeps the browser from
// guessing another type, and the CSP sandbox keeps a file opened anyway
// from running anything.
func (s *Sandbox) handleFile(w http.ResponseWriter, r *http.Request) {
	data, name, ok := s.tg.FileData(r.URL.Query().Get("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	// The type from the content, not the name: a photo may have any name.
	if ct := http.DetectContentType(data); r.URL.Query().Get("inline") != "" && inlineImage(ct) {
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", "inline")
	} else {
		h.Set("Content-Type", "application/octet-stream")
		params := map[string]string{}
		if name != "" {
			params["filename"] = name
		}
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", params))
	}
	_, _ = w.Write(data)
}

// inlineImage reports an image type the page may show in place: a raster
// image, which browsers never run script from (SVG can hold script).
func inlineImage(contentType string) bool {
	switch contentType {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

type sendRequest struct {
	As      string `json:"as"`
	Where   string `json:"where"` // "group" or "private"
	Text    string `json:"text"`
	ChatID  int64  `json:"chat"`
	Message int    `json:"message"`
	Label   string `json:"label"`
	Step    string `json:"step"`
}

func readJSON(w http.ResponseWriter, r *http.Request) (sendRequest, bool) {
	var req sendRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return req, false
	}
	return req, true
}

func (s *Sandbox) handleSend(w http.ResponseWriter, r *http.Request) {
	req, ok := readJSON(w, r)
	if !ok {
		return
	}
	if req.Text == "" {
		http.Error(w, "empty message", http.StatusBadRequest)
		return
	}
	p := s.person(req.As)
	s.try(w, func() {
		if req.Where == "group" {
			p.user.SendIn(s.group, req.Text)
		} else {
			p.user.Send(req.Text)
		}
	})
}

func (s *Sandbox) handlePress(w http.ResponseWriter, r *http.Request) {
	req, ok := readJSON(w, r)
	if !ok {
		return
	}
	p := s.person(req.As)
	s.try(w, func() {
		p.user.PressOn(telegramtest.Message{ChatID: req.ChatID, MessageID: req.Message}, req.Label)
	})
}

func (s *Sandbox) handleUpload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+64<<10)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file: "+err.Error(), http.StatusBadRequest)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil || len(data) > maxUpload {
		http.Error(w, "the file is too large (1 MB at most)", http.StatusRequestEntityTooLarge)
		return
	}
	p := s.person(r.FormValue("as"))
	caption := r.FormValue("caption")
	s.try(w, func() { p.user.SendDocument(path.Base(hdr.Filename), data, caption) })
}

func (s *Sandbox) handleClock(w http.ResponseWriter, r *http.Request) {
	req, ok := readJSON(w, r)
	if !ok {
		return
	}
	switch req.Step {
	case "hour":
		s.clock.Advance(time.Hour)
	case "day":
		s.clock.Advance(24 * time.Hour)
	case "next":
		at, ok := s.nextDue(r.Context())
		if !ok {
			http.Error(w, "nothing is due", http.StatusConflict)
			return
		}
		if d := at.Sub(s.clock.Now()); d > 0 {
			s.clock.Advance(d + time.Second)
		}
	default:
		http.Error(w, "unknown step "+strconv.Quote(req.Step), http.StatusBadRequest)
		return
	}
	writeJSON(w, map[string]string{"clock": s.clock.Now().In(location()).Format(timeLayout)})
}

// try runs a scripted user's action and answers 422 with the reason when the
// test server refuses it (a button that is no longer there, say).
func (s *Sandbox) try(w http.ResponseWriter, f func()) {
	s.act.Lock()
	err := telegramtest.Try(f)
	s.act.Unlock()
	var fail *telegramtest.Failure
	if errors.As(err, &fail) {
		http.Error(w, fail.Msg, http.StatusUnprocessableEntity)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
