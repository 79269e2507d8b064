package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// defaultAllowed are the update kinds delivered when allowed_updates is empty.
var defaultAllowed = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// newUpdateLocked queues an update and returns its id. s.mu must be held.
func (s *Server) newUpdateLocked(kind string, payload map[string]any) int {
	id := s.nextUpdateID
	s.nextUpdateID++
	body, err := json.Marshal(map[string]any{"update_id": id, kind: payload})
	if err != nil {
		panic(fmt.Sprintf("telegramtest: marshal update: %v", err))
	}
	u := &update{id: id, kind: kind, body: body}
	s.allUpdates[id] = u
	s.queue = append(s.queue, u)
	s.broadcastLocked()
	return id
}

// RawUpdate queues an update of the kind ("message", "callback_query", …) whose
// payload is the given JSON, as is: for updates a real client could not script,
// such as one with a field of a type the bot does not expect (a newer Bot API).
// It returns the update id.
func (s *Server) RawUpdate(kind string, payload json.RawMessage) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpdateID
	s.nextUpdateID++
	body, err := json.Marshal(map[string]any{"update_id": id, kind: payload})
	if err != nil {
		s.t.Fatalf("telegramtest: RawUpdate: %v", err)
	}
	u := &update{id: id, kind: kind, body: body}
	s.allUpdates[id] = u
	s.queue = append(s.queue, u)
	s.broadcastLocked()
	return id
}

// Redeliver puts an update, confirmed or not, back at the end of the queue
// with the same update_id, as Telegram does when it believes the bot did not
// get it. The bot must handle it only once.
func (s *Server) Redeliver(updateID int) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.allUpdates[updateID]
	if u == nil {
		s.t.Fatalf("telegramtest: Redeliver: no update %d", updateID)
		return
	}
	s.queue = append(s.queue, &update{id: u.id, kind: u.kind, body: u.body, redelivered: true})
	s.broadcastLocked()
}

func (s *Server) allowedLocked(kind string) bool {
	allowed := s.allowed
	if len(allowed) == 0 {
		allowed = defaultAllowed
	}
	return slices.Contains(allowed, kind)
}

// confirmLocked drops updates below offset (see getUpdates). s.mu must be held.
func (s *Server) confirmLocked(offset int64) {
	if offset == 0 {
		return
	}
	keep := s.queue[:0]
	if offset < 0 {
		n := int(-offset)
		if n < len(s.queue) {
			keep = append(keep, s.queue[len(s.queue)-n:]...)
		} else {
			keep = append(keep, s.queue...)
		}
	} else {
		for _, u := range s.queue {
			if int64(u.id) >= offset || (u.redelivered && !u.returned) {
				keep = append(keep, u)
			}
		}
	}
	clear(s.queue[len(keep):])
	s.queue = keep
	s.broadcastLocked()
}

func parseAllowed(raw string) ([]string, *apiError) {
	if raw == "" {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, badRequest("can't parse allowed updates JSON object")
	}
	return v, nil
}

func (s *Server) getUpdates(r *http.Request, p params, _ []upload) (any, *apiError) {
	offset, _ := p.int64("offset")
	limit, ok := p.int64("limit")
	if !ok || limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := p.int64("timeout")
	timeout = min(max(timeout, 0), maxPollTimeout)
	allowed, e := parseAllowed(p["allowed_updates"])
	if e != nil {
		return nil, e
	}
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()

	s.mu.Lock()
	if s.webhook != nil {
		s.mu.Unlock()
		return nil, conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	}
	s.pollGen++
	gen := s.pollGen
	if p.has("allowed_updates") {
		s.allowed = allowed
	}
	s.confirmLocked(offset)
	for {
		if s.pollGen != gen {
			s.mu.Unlock()
			return nil, conflict("terminated by other getUpdates request; make sure that only one bot instance is running")
		}
		if s.webhook != nil {
			s.mu.Unlock()
			return nil, conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
		}
		var out []json.RawMessage
		keep := s.queue[:0]
		for _, u := range s.queue {
			if !s.allowedLocked(u.kind) {
				continue
			}
			keep = append(keep, u)
			if len(out) < int(limit) {
				out = append(out, u.body)
				u.returned = true
			}
		}
		clear(s.queue[len(keep):])
		s.queue = keep
		if len(out) > 0 || timeout == 0 {
			s.mu.Unlock()
			if out == nil {
				out = []json.RawMessage{}
			}
			return out, nil
		}
		s.polling++
		s.broadcastLocked()
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			timeout = 0
		case <-s.done:
			timeout = 0
		case <-r.Context().Done():
		}
		// A poll whose client went away gets no answer, whatever else
		// happened meanwhile (a newer poll, which would otherwise be its 409).
		gone := r.Context().Err() != nil
		s.mu.Lock()
		s.polling--
		if gone {
			s.mu.Unlock()
			return []json.RawMessage{}, nil
		}
	}
}

type webhookState struct {
	url, secret    string
	maxConnections int
	lastErrorDate  int64
	lastErrorMsg   string
}

var secretToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(_ *http.Request, p params, _ []upload) (any, *apiError) {
	raw := p["url"]
	if raw == "" {
		return s.removeWebhook(p.bool("drop_pending_updates"))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, badRequest("bad webhook: Failed to resolve host: Name or service not known")
	}
	secret := p["secret_token"]
	if secret != "" && !secretToken.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	allowed, e := parseAllowed(p["allowed_updates"])
	if e != nil {
		return nil, e
	}
	maxConn, ok := p.int64("max_connections")
	if !ok {
		maxConn = 40
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	if p.has("allowed_updates") {
		s.allowed = allowed
	}
	s.stopWebhookLocked()
	s.webhook = &webhookState{url: raw, secret: secret, maxConnections: int(maxConn)}
	ctx, cancel := context.WithCancel(context.Background())
	prev := s.webhookDone
	done := make(chan struct{})
	s.webhookCancel, s.webhookDone = cancel, done
	go s.deliverLoop(ctx, s.webhook, prev, done)
	s.broadcastLocked()
	return true, nil
}

func (s *Server) stopWebhookLocked() {
	if s.webhookCancel != nil {
		s.webhookCancel()
		s.webhookCancel = nil
	}
	s.webhook = nil
}

func (s *Server) removeWebhook(drop bool) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if drop {
		s.queue = nil
	}
	s.stopWebhookLocked()
	s.broadcastLocked()
	return true, nil
}

func (s *Server) deleteWebhook(_ *http.Request, p params, _ []upload) (any, *apiError) {
	return s.removeWebhook(p.bool("drop_pending_updates"))
}

func (s *Server) getWebhookInfo(*http.Request, params, []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := map[string]any{"url": "", "has_custom_certificate": false, "pending_update_count": len(s.queue)}
	if w := s.webhook; w != nil {
		info["url"] = w.url
		info["max_connections"] = w.maxConnections
		if w.lastErrorDate != 0 {
			info["last_error_date"] = w.lastErrorDate
			info["last_error_message"] = w.lastErrorMsg
		}
		if len(s.allowed) > 0 {
			info["allowed_updates"] = s.allowed
		}
	}
	return info, nil
}

// deliverLoop posts queued updates to the webhook one at a time, in order,
// retrying with backoff until the receiver answers 2xx.
func (s *Server) deliverLoop(ctx context.Context, w *webhookState, prev <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	backoff := 50 * time.Millisecond
	for {
		s.mu.Lock()
		var next *update
		for len(s.queue) > 0 && next == nil {
			if u := s.queue[0]; !s.allowedLocked(u.kind) {
				s.queue = s.queue[1:]
				s.broadcastLocked()
			} else {
				next = u
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if next == nil {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		err := s.post(ctx, client, w, next.body)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if err == nil {
			if len(s.queue) > 0 && s.queue[0] == next {
				s.queue = s.queue[1:]
			}
			backoff = 50 * time.Millisecond
		} else {
			w.lastErrorDate = s.now().Unix()
			w.lastErrorMsg = err.Error()
		}
		s.broadcastLocked()
		s.mu.Unlock()
		if err != nil {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(backoff*2, webhookMaxBackoff)
		}
	}
}

func (s *Server) post(ctx context.Context, client *http.Client, w *webhookState, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", w.secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		//lint:ignore ST1005 Telegram's own text, shown by getWebhookInfo
		return errors.New("Connection refused")
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		//lint:ignore ST1005 Telegram's own text, shown by getWebhookInfo
		return fmt.Errorf("Wrong response from the webhook: %s", resp.Status)
	}
	return nil
}
