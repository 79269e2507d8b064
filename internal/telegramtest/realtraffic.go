package telegramtest

import (
	"encoding/json"
	"fmt"
)

// Scripts for what real clients send: users with a last name,
// messages in forum topics, forwarded messages, and raw updates taken from
// elsewhere.

// UserNamed creates a user with a first and a last name, language "vi".
func (s *Server) UserNamed(firstName, lastName string) *User {
	u := s.UserLang(firstName, "vi")
	s.mu.Lock()
	u.st.lastName = lastName
	s.mu.Unlock()
	return u
}

// SendInTopic sends a text message in forum topic threadID of group g, as a
// client does in a forum supergroup, and returns the update id.
func (u *User) SendInTopic(g *Group, threadID int, text string) int {
	u.s.t.Helper()
	return u.sendWith(g.c.id, text, map[string]any{"message_thread_id": threadID, "is_topic_message": true})
}

// Forward sends text in the private chat as a message forwarded from another
// user (forward_origin, and the older forward_date), and returns the update id.
func (u *User) Forward(text string) int {
	u.s.t.Helper()
	origin := map[string]any{"type": "user", "date": 1700000000, "sender_user": map[string]any{"id": 999, "is_bot": false, "first_name": "Khác"}}
	return u.sendWith(u.st.id, text, map[string]any{"forward_origin": origin, "forward_date": 1700000000})
}

func (u *User) sendWith(chatID int64, text string, extra map[string]any) int {
	u.s.t.Helper()
	u.s.mu.Lock()
	u.st.nextExtra = extra
	u.s.mu.Unlock()
	return u.send(chatID, text, nil, nil)
}

// InjectUpdate queues a raw update as Telegram would send it, with its
// update_id replaced by the server's next one, and returns that id. kind is
// the update's field ("message", "edited_message", "chat_member"…), for
// allowed_updates. The bot sees it as is: the chats and users it names need not
// exist on the server.
func (s *Server) InjectUpdate(kind string, payload json.RawMessage) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpdateID
	s.nextUpdateID++
	body, err := json.Marshal(map[string]any{"update_id": id, kind: payload})
	if err != nil {
		panic(fmt.Sprintf("telegramtest: marshal update: %v", err))
	}
	if kind == "callback_query" {
		s.knowQueryLocked(payload)
	}
	u := &update{id: id, kind: kind, body: body}
	s.allUpdates[id] = u
	s.queue = append(s.queue, u)
	s.broadcastLocked()
	return id
}

// KnowCallbackQuery records the callback query in payload as one the server
// has seen, so that the bot may answer it: for queries posted to the bot's
// webhook by the test rather than delivered by the server.
func (s *Server) KnowCallbackQuery(payload json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knowQueryLocked(payload)
}

func (s *Server) knowQueryLocked(payload json.RawMessage) {
	var q struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(payload, &q) == nil && q.ID != "" {
		s.queries[q.ID] = &callbackQuery{id: q.ID, created: s.now()}
	}
}
