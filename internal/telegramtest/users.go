package telegramtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

var deepLinkPayload = regexp.MustCompile(`^[A-Za-z0-9_-]{0,64}$`)

// User is a Telegram user scripted by the test.
type User struct {
	s  *Server
	st *userState
}

// User creates a user with a new id, the given first name and language "vi".
func (s *Server) User(firstName string) *User { return s.UserLang(firstName, "vi") }

// UserLang creates a user with the given first name and language_code.
func (s *Server) UserLang(firstName, languageCode string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &userState{id: s.nextUserID, firstName: firstName, lang: languageCode}
	s.nextUserID++
	s.users[st.id] = st
	s.chats[st.id] = &chat{id: st.id, typ: "private", user: st}
	s.broadcastLocked()
	return &User{s: s, st: st}
}

// ID returns the user's id, which is also the id of their private chat.
func (u *User) ID() int64 { return u.st.id }

// Group is a supergroup the bot is an administrator of.
type Group struct {
	s *Server
	c *chat
}

// Group creates a supergroup (id -100…) with the bot as an administrator.
func (s *Server) Group(title string) *Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Group{s: s, c: s.newGroupLocked("supergroup", title)}
}

// newGroupLocked adds a group chat of the type, numbered from that type's
// counter. s.mu must be held.
func (s *Server) newGroupLocked(typ, title string) *chat {
	next := &s.nextGroupID
	if typ == "group" {
		next = &s.nextBasicID
	}
	c := &chat{id: *next, typ: typ, title: title, members: map[int64]string{}}
	*next--
	s.chats[c.id] = c
	s.broadcastLocked()
	return c
}

// ID returns the group's chat id.
func (g *Group) ID() int64 { return g.c.id }

// Add makes u a member of the group.
func (g *Group) Add(u *User) { g.setStatus(u, "member") }

// AddAdmin makes u an administrator of the group; the first one added
// becomes its creator.
func (g *Group) AddAdmin(u *User) {
	g.s.mu.Lock()
	status := "creator"
	for _, st := range g.c.members {
		if st == "creator" {
			status = "administrator"
		}
	}
	g.s.mu.Unlock()
	g.setStatus(u, status)
}

func (g *Group) setStatus(u *User, status string) {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	g.c.members[u.st.id] = status
	g.s.broadcastLocked()
}

// commandEntity returns the bot_command entity of a text starting with /cmd.
func commandEntity(text string) []entity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	end := strings.IndexAny(text, " \n\t")
	if end < 0 {
		end = len(text)
	}
	if end < 2 {
		return nil
	}
	return []entity{{Type: "bot_command", Offset: 0, Length: utf16Len(text[:end])}}
}

// userMessageLocked adds a message from u to c. s.mu must be held.
func (s *Server) userMessageLocked(c *chat, u *userState, text string, reply *message) *message {
	c.nextMsgID++
	m := &message{chat: c, id: c.nextMsgID, date: s.now(), from: u, text: text, raw: text, entities: commandEntity(text), replyTo: reply}
	c.messages = append(c.messages, m)
	return m
}

// seesLocked reports whether the bot receives m (group privacy mode).
func (s *Server) seesLocked(m *message) bool {
	if m.chat.typ == "private" || !s.privacy {
		return true
	}
	text := m.text + m.caption
	return strings.HasPrefix(text, "/") || strings.Contains(text, "@"+BotUsername) || (m.replyTo != nil && m.replyTo.fromBot)
}

func (u *User) fatalf(format string, args ...any) {
	u.s.t.Helper()
	u.s.t.Fatalf("telegramtest: %s: %s", u.st.firstName, fmt.Sprintf(format, args...))
}

// send posts a message from u and queues its update; it returns the update
// id, or 0 when the bot does not see the message (group privacy mode).
func (u *User) send(chatID int64, text string, reply *Message, doc *upload) int {
	s := u.s
	s.t.Helper()
	s.mu.Lock()
	c := s.chats[chatID]
	var msg string
	switch {
	case c == nil:
		msg = fmt.Sprintf("no chat %d", chatID)
	case c.typ == "private" && c.id != u.st.id:
		msg = fmt.Sprintf("chat %d is another user's private chat", chatID)
	case c.typ == "private" && u.st.blocked:
		msg = "has blocked the bot; call Unblock or Start first"
	case c.typ != "private" && c.members[u.st.id] == "":
		msg = fmt.Sprintf("is not a member of %q", c.title)
	}
	var target *message
	if msg == "" && reply != nil {
		if target = c.find(reply.MessageID); target == nil || target.deleted {
			msg = fmt.Sprintf("no message %d to reply to in chat %d", reply.MessageID, chatID)
		}
	}
	if msg != "" {
		s.mu.Unlock()
		u.fatalf("%s", msg)
		return 0
	}
	if c.typ == "private" {
		u.st.started = true
	}
	m := s.userMessageLocked(c, u.st, text, target)
	m.extra, u.st.nextExtra = u.st.nextExtra, nil
	if doc != nil {
		m.text, m.raw, m.entities = "", "", nil
		m.doc = s.storeFileLocked("document", doc.name, "application/octet-stream", doc.data)
		m.caption, m.rawCapt = text, text
	}
	id := 0
	if s.seesLocked(m) {
		id = s.newUpdateLocked("message", m.json(true))
	} else {
		s.broadcastLocked()
	}
	s.mu.Unlock()
	return id
}

// Start sends "/start <payload>" ("/start" if payload is empty) in the private
// chat; from then on the bot may write to the user. It unblocks the bot, as the
// client's "Restart" button does. It returns the update id.
//
// The payload must be a valid deep-link parameter (up to 64 of A-Z a-z 0-9 _ -),
// as Telegram clients drop any other; an invalid one fails the test.
func (u *User) Start(payload string) int {
	u.s.t.Helper()
	if !deepLinkPayload.MatchString(payload) {
		u.fatalf("invalid /start payload %q: up to 64 of A-Z a-z 0-9 _ -", payload)
		return 0
	}
	u.Unblock()
	text := "/start"
	if payload != "" {
		text += " " + payload
	}
	return u.send(u.st.id, text, nil, nil)
}

// Send sends a text message in the private chat and returns the update id.
func (u *User) Send(text string) int {
	u.s.t.Helper()
	return u.send(u.st.id, text, nil, nil)
}

// SendIn sends a text message in group g. It returns the update id, or 0 if
// the bot does not receive it (privacy mode: only commands, mentions and
// replies to the bot reach it).
func (u *User) SendIn(g *Group, text string) int {
	u.s.t.Helper()
	return u.send(g.c.id, text, nil, nil)
}

// Reply replies to message m (in m's chat) with text and returns the update id.
func (u *User) Reply(m Message, text string) int {
	u.s.t.Helper()
	return u.send(m.ChatID, text, &m, nil)
}

// SendDocument sends a file in the private chat, with an optional caption.
// The file is stored, so getFile and the download work. It returns the update id.
func (u *User) SendDocument(fileName string, content []byte, caption string) int {
	u.s.t.Helper()
	return u.send(u.st.id, caption, nil, &upload{name: fileName, data: content})
}

// Block makes the user block the bot: sends to them fail with 403.
func (u *User) Block() { u.setBlocked(true) }

// Unblock undoes Block.
func (u *User) Unblock() { u.setBlocked(false) }

func (u *User) setBlocked(b bool) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	u.st.blocked = b
	u.s.broadcastLocked()
}

// Press presses the inline button labelled label on the newest bot message in
// the user's private chat that has one, and returns the update id of the
// callback_query. It fails the test if there is no such button.
func (u *User) Press(label string) int {
	u.s.t.Helper()
	return u.PressIn(u.st.id, label)
}

// PressIn is Press in the chat chatID (a group the user is in).
func (u *User) PressIn(chatID int64, label string) int {
	s := u.s
	s.t.Helper()
	s.mu.Lock()
	c := s.chats[chatID]
	var target *message
	var btn Button
	if c != nil {
		for i := len(c.messages) - 1; i >= 0 && target == nil; i-- {
			m := c.messages[i]
			if !m.fromBot || m.deleted {
				continue
			}
			for _, row := range m.buttons {
				for _, b := range row {
					if b.Text == label && target == nil {
						target, btn = m, b
					}
				}
			}
		}
	}
	if target == nil || btn.CallbackData == "" {
		s.mu.Unlock()
		if target != nil {
			u.fatalf("button %q in chat %d has no callback_data (url %q)", label, chatID, btn.URL)
		}
		u.fatalf("no bot message with a button %q in chat %d", label, chatID)
		return 0
	}
	id := u.pressLocked(target, btn.CallbackData)
	s.mu.Unlock()
	return id
}

// PressOn presses the inline button labelled label on the bot message m (as
// returned by WaitMessage or Messages), as a user scrolling back to an older
// message does, and returns the update id. It fails the test if m has no such
// button now.
func (u *User) PressOn(m Message, label string) int {
	s := u.s
	s.t.Helper()
	s.mu.Lock()
	var target *message
	var btn Button
	if c := s.chats[m.ChatID]; c != nil {
		for _, cm := range c.messages {
			if cm.id != m.MessageID || !cm.fromBot || cm.deleted {
				continue
			}
			for _, row := range cm.buttons {
				for _, b := range row {
					if b.Text == label && target == nil {
						target, btn = cm, b
					}
				}
			}
		}
	}
	if target == nil || btn.CallbackData == "" {
		s.mu.Unlock()
		u.fatalf("no button %q with callback data on message %d in chat %d", label, m.MessageID, m.ChatID)
		return 0
	}
	id := u.pressLocked(target, btn.CallbackData)
	s.mu.Unlock()
	return id
}

// AnswerDelay returns how long after the press with update id updateID its
// callback query was answered (answerCallbackQuery accepted), by the server's
// clock, and whether it was answered at all.
func (s *Server) AnswerDelay(updateID int) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.allUpdates[updateID]
	if u == nil || u.kind != "callback_query" {
		return 0, false
	}
	var body struct {
		Q struct {
			ID string `json:"id"`
		} `json:"callback_query"`
	}
	if json.Unmarshal(u.body, &body) != nil {
		return 0, false
	}
	q := s.queries[body.Q.ID]
	if q == nil || !q.answered {
		return 0, false
	}
	return q.answeredAt.Sub(q.created), true
}

// pressLocked queues the callback query of u pressing a button with data under
// target. s.mu must be held.
func (u *User) pressLocked(target *message, data string) int {
	s := u.s
	s.nextQueryID++
	qid := fmt.Sprintf("%d%06d", u.st.id, s.nextQueryID)
	s.queries[qid] = &callbackQuery{id: qid, created: s.now()}
	return s.newUpdateLocked("callback_query", map[string]any{
		"id":            qid,
		"from":          u.st.json(),
		"message":       target.json(true),
		"chat_instance": fmt.Sprintf("%d", -target.chat.id*7919-1),
		"data":          data,
	})
}

// Messages returns the bot's messages in the private chat (see Server.Messages).
func (u *User) Messages() []Message { return u.s.Messages(u.st.id) }

// LastMessage returns the newest not deleted bot message in the private
// chat, or the zero Message if there is none.
func (u *User) LastMessage() Message {
	msgs := u.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if !msgs[i].Deleted {
			return msgs[i]
		}
	}
	return Message{}
}

// WaitMessage waits until a bot message in the private chat contains the
// substring (see Server.WaitMessage).
func (u *User) WaitMessage(contains string) Message {
	u.s.t.Helper()
	return u.s.WaitMessage(u.st.id, contains)
}

// Messages returns the bot's messages in a chat in their current state,
// oldest first; deleted ones are included with Deleted set.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.messages {
		if m.fromBot {
			out = append(out, m.export())
		}
	}
	return out
}

// Transcript returns every message of a chat in its current state, the users'
// as well as the bot's, oldest first: what a Telegram client shows.
func (s *Server) Transcript(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.messages))
	for _, m := range c.messages {
		out = append(out, m.export())
	}
	return out
}

func (m Message) contains(sub string) bool {
	return strings.Contains(m.Text, sub) || strings.Contains(m.Caption, sub) || strings.Contains(m.RawText, sub)
}

// WaitMessage waits until a not deleted bot message in chatID contains the
// substring in its visible text, its text as sent, or its caption (edits
// count), and returns the newest such message. It fails the test at the
// deadline.
func (s *Server) WaitMessage(chatID int64, contains string) Message {
	s.t.Helper()
	var found Message
	ok := s.waitFor(func() bool {
		msgs := s.Messages(chatID)
		for i := len(msgs) - 1; i >= 0; i-- {
			if !msgs[i].Deleted && msgs[i].contains(contains) {
				found = msgs[i]
				return true
			}
		}
		return false
	})
	if !ok {
		var texts []string
		for _, m := range s.Messages(chatID) {
			texts = append(texts, fmt.Sprintf("%q", m.Text+m.Caption))
		}
		s.t.Fatalf("telegramtest: no bot message containing %q in chat %d within %v; bot messages: [%s]", contains, chatID, s.wait, strings.Join(texts, ", "))
	}
	return found
}

// Opened marks the user as having opened the bot some time before the test,
// without an update, so the bot may write to them: for tests that seed many
// members at once.
func (u *User) Opened() {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	u.st.started = true
	u.s.broadcastLocked()
}

// LastSent returns the newest message the user sent in their private chat, for
// replying to it (Reply).
func (u *User) LastSent() Message {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	c := u.s.chats[u.st.id]
	for i := len(c.messages) - 1; i >= 0; i-- {
		if m := c.messages[i]; !m.fromBot {
			return m.export()
		}
	}
	u.s.t.Fatalf("telegramtest: %s has sent nothing", u.st.firstName)
	return Message{}
}

// PressData sends a callback query with arbitrary data from the newest bot message
// in the user's private chat, as a modified client could: bots must check callback
// data again. The chat must hold at least one bot message.
func (u *User) PressData(data string) int {
	s := u.s
	s.t.Helper()
	s.mu.Lock()
	c := s.chats[u.st.id]
	var target *message
	for i := len(c.messages) - 1; i >= 0 && target == nil; i-- {
		if m := c.messages[i]; m.fromBot && !m.deleted {
			target = m
		}
	}
	if target == nil {
		s.mu.Unlock()
		u.fatalf("no bot message in chat %d to press on", u.st.id)
		return 0
	}
	id := u.pressLocked(target, data)
	s.mu.Unlock()
	return id
}

// BasicGroup creates a basic group (type "group", the kind a new Telegram group
// starts as) with the bot as an administrator; Migrate upgrades it.
func (s *Server) BasicGroup(title string) *Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Group{s: s, c: s.newGroupLocked("group", title)}
}

// Migrate upgrades a basic group to a supergroup, as Telegram does when an admin
// changes some settings: the group gets a new chat id, the old one refuses
// messages, and the bot receives a service message with migrate_to_chat_id in the
// old chat and one with migrate_from_chat_id in the new. by is the admin who did
// it. The Group then stands for the supergroup; Migrate returns the old id.
func (g *Group) Migrate(by *User) int64 {
	s := g.s
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := g.c
	if old.typ != "group" {
		s.t.Fatalf("telegramtest: Migrate: %q is not a basic group", old.title)
		return 0
	}
	nc := s.newGroupLocked("supergroup", old.title)
	for id, st := range old.members {
		nc.members[id] = st
	}
	old.migratedTo = nc.id
	old.nextMsgID++
	s.newUpdateLocked("message", map[string]any{
		"message_id": old.nextMsgID, "from": by.st.json(), "chat": old.json(),
		"date": s.now().Unix(), "migrate_to_chat_id": nc.id,
	})
	nc.nextMsgID++
	s.newUpdateLocked("message", map[string]any{
		"message_id": nc.nextMsgID, "from": by.st.json(), "chat": nc.json(),
		"date": s.now().Unix(), "migrate_from_chat_id": old.id,
	})
	g.c = nc
	return old.id
}

// FileData returns the content of a file the bot sent or a user uploaded, by
// its file_id, and whether there is one.
func (s *Server) FileData(fileID string) ([]byte, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil {
		return nil, "", false
	}
	return append([]byte(nil), f.data...), f.name, true
}
