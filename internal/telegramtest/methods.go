package telegramtest

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/gif" // register decoders so sendPhoto can check uploads
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) getMe(*http.Request, params, []upload) (any, *apiError) {
	me := botUserJSON()
	me["can_join_groups"] = true
	me["can_read_all_group_messages"] = !s.privacy
	me["supports_inline_queries"] = false
	me["can_connect_to_business"] = false
	me["has_main_web_app"] = false
	return me, nil
}

// chatLocked resolves the chat_id parameter. s.mu must be held.
func (s *Server) chatLocked(p params) (*chat, *apiError) {
	raw := strings.TrimSpace(p["chat_id"])
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, badRequest("chat not found")
	}
	c := s.chats[id]
	if c == nil {
		return nil, badRequest("chat not found")
	}
	return c, nil
}

// canWriteLocked reports whether the bot may send to c. s.mu must be held.
func canWriteLocked(c *chat) *apiError {
	if c.migratedTo != 0 {
		return badRequest("group chat was upgraded to a supergroup chat")
	}
	if c.typ != "private" {
		return nil
	}
	if c.user.blocked {
		return forbidden("bot was blocked by the user")
	}
	if !c.user.started {
		return forbidden("bot can't initiate conversation with a user")
	}
	return nil
}

func messageIDParam(p params) (int, *apiError) {
	id, ok := p.int64("message_id")
	if !ok {
		return 0, badRequest("message identifier is not specified")
	}
	return int(id), nil
}

func formatBody(text, mode string) (string, []entity, *apiError) {
	if strings.TrimSpace(text) == "" {
		return "", nil, badRequest("message text is empty")
	}
	visible, ents, e := formatText(text, mode)
	if e != nil {
		return "", nil, e
	}
	if strings.TrimSpace(visible) == "" {
		return "", nil, badRequest("message text is empty")
	}
	if utf16Len(visible) > maxTextLen {
		return "", nil, badRequest("message is too long")
	}
	return visible, ents, nil
}

func formatCaption(text, mode string) (string, []entity, *apiError) {
	if text == "" {
		return "", nil, nil
	}
	visible, ents, e := formatText(text, mode)
	if e != nil {
		return "", nil, e
	}
	if utf16Len(visible) > maxCaptionLen {
		return "", nil, badRequest("message caption is too long")
	}
	return visible, ents, nil
}

// replyTargetLocked resolves reply_to_message_id / reply_parameters.
func replyTargetLocked(c *chat, p params) (*message, *apiError) {
	id, ok := p.int64("reply_to_message_id")
	allow := p.bool("allow_sending_without_reply")
	if rp := p["reply_parameters"]; rp != "" {
		var v struct {
			MessageID int64 `json:"message_id"`
			Allow     bool  `json:"allow_sending_without_reply"`
		}
		if err := json.Unmarshal([]byte(rp), &v); err != nil {
			return nil, badRequest("can't parse reply parameters JSON object")
		}
		id, ok, allow = v.MessageID, v.MessageID != 0, v.Allow
	}
	if !ok || id == 0 {
		return nil, nil
	}
	m := c.find(int(id))
	if m == nil || m.deleted {
		if allow {
			return nil, nil
		}
		return nil, badRequest("message to be replied not found")
	}
	return m, nil
}

// newBotMessageLocked appends a bot message to c. s.mu must be held.
func (s *Server) newBotMessageLocked(c *chat) *message {
	c.nextMsgID++
	m := &message{chat: c, id: c.nextMsgID, date: s.now(), fromBot: true}
	c.messages = append(c.messages, m)
	s.stats.Delivered[c.id]++
	return m
}

func (s *Server) sendMessage(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	visible, ents, e := formatBody(p["text"], p["parse_mode"])
	if e != nil {
		return nil, e
	}
	if lp := p["link_preview_options"]; lp != "" && !json.Valid([]byte(lp)) {
		return nil, badRequest("can't parse link preview options JSON object")
	}
	markup, buttons, e := parseMarkup(p["reply_markup"])
	if e != nil {
		return nil, e
	}
	reply, e := replyTargetLocked(c, p)
	if e != nil {
		return nil, e
	}
	if e := canWriteLocked(c); e != nil {
		return nil, e
	}
	if e := s.takeSendLocked(c, p.bool("allow_paid_broadcast")); e != nil {
		return nil, e
	}
	m := s.newBotMessageLocked(c)
	m.text, m.raw, m.mode, m.entities = visible, p["text"], p["parse_mode"], ents
	m.markup, m.buttons, m.replyTo = markup, buttons, reply
	s.broadcastLocked()
	return m.json(true), nil
}

func (s *Server) sendDocument(_ *http.Request, p params, up []upload) (any, *apiError) {
	return s.sendMedia("document", p, up)
}

func (s *Server) sendPhoto(_ *http.Request, p params, up []upload) (any, *apiError) {
	return s.sendMedia("photo", p, up)
}

var kindNames = map[string]string{"photo": "Photo", "document": "Document"}

func (s *Server) sendMedia(kind string, p params, up []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	ref := p[kind]
	var upl *upload
	for i := range up {
		if up[i].field == kind || (strings.HasPrefix(ref, "attach://") && up[i].field == strings.TrimPrefix(ref, "attach://")) {
			upl = &up[i]
		}
	}
	var existing *file
	var width, height int
	switch {
	case upl != nil:
		if len(upl.data) == 0 {
			return nil, badRequest("file must be non-empty")
		}
		if kind == "photo" {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(upl.data))
			if err != nil {
				return nil, badRequest("IMAGE_PROCESS_FAILED")
			}
			width, height = cfg.Width, cfg.Height
		}
	case ref == "":
		return nil, badRequest("there is no %s in the request", kind)
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		return nil, badRequest("failed to get HTTP URL content")
	default:
		existing = s.files[ref]
		if existing == nil {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		if existing.kind != kind {
			return nil, badRequest("can't use file of type %s as %s", kindNames[existing.kind], kindNames[kind])
		}
	}
	caption, capEnts, e := formatCaption(p["caption"], p["parse_mode"])
	if e != nil {
		return nil, e
	}
	markup, buttons, e := parseMarkup(p["reply_markup"])
	if e != nil {
		return nil, e
	}
	reply, e := replyTargetLocked(c, p)
	if e != nil {
		return nil, e
	}
	if e := canWriteLocked(c); e != nil {
		return nil, e
	}
	if e := s.takeSendLocked(c, p.bool("allow_paid_broadcast")); e != nil {
		return nil, e
	}
	f := existing
	if f == nil {
		f = s.storeFileLocked(kind, upl.name, upl.mime, upl.data)
		f.width, f.height = width, height
	}
	m := s.newBotMessageLocked(c)
	if kind == "photo" {
		m.photo = f
	} else {
		m.doc = f
	}
	m.caption, m.rawCapt, m.captEnts, m.mode = caption, p["caption"], capEnts, p["parse_mode"]
	m.markup, m.buttons, m.replyTo = markup, buttons, reply
	s.broadcastLocked()
	return m.json(true), nil
}

// editTargetLocked finds the bot message to edit. s.mu must be held.
func (s *Server) editTargetLocked(p params) (*message, *apiError) {
	if p.has("inline_message_id") {
		return nil, badRequest("message to edit not found")
	}
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	id, e := messageIDParam(p)
	if e != nil {
		return nil, e
	}
	m := c.find(id)
	if m == nil || m.deleted {
		return nil, badRequest("message to edit not found")
	}
	if !m.fromBot {
		return nil, badRequest("message can't be edited")
	}
	if e := canWriteLocked(c); e != nil {
		return nil, e
	}
	return m, nil
}

func (s *Server) applyEditLocked(m *message) (any, *apiError) {
	if e := s.takeSendLocked(m.chat, false); e != nil {
		return nil, e
	}
	m.edits++
	m.editDate = s.now()
	s.broadcastLocked()
	return m.json(true), nil
}

func (s *Server) editMessageText(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	visible, ents, e := formatBody(p["text"], p["parse_mode"])
	if e != nil {
		return nil, e
	}
	markup, buttons, e := parseMarkup(p["reply_markup"])
	if e != nil {
		return nil, e
	}
	if m.doc != nil || m.photo != nil {
		return nil, badRequest("there is no text in the message to edit")
	}
	if visible == m.text && sameEntities(ents, m.entities) && bytes.Equal(markup, m.markup) {
		return nil, badRequest(notModified)
	}
	result, e := s.applyEditLocked(m)
	if e == nil {
		m.text, m.raw, m.mode, m.entities = visible, p["text"], p["parse_mode"], ents
		m.markup, m.buttons = markup, buttons
		result = m.json(true)
	}
	return result, e
}

func (s *Server) editMessageCaption(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	caption, ents, e := formatCaption(p["caption"], p["parse_mode"])
	if e != nil {
		return nil, e
	}
	markup, buttons, e := parseMarkup(p["reply_markup"])
	if e != nil {
		return nil, e
	}
	if m.doc == nil && m.photo == nil {
		return nil, badRequest("there is no caption in the message to edit")
	}
	if caption == m.caption && sameEntities(ents, m.captEnts) && bytes.Equal(markup, m.markup) {
		return nil, badRequest(notModified)
	}
	result, e := s.applyEditLocked(m)
	if e == nil {
		m.caption, m.rawCapt, m.mode, m.captEnts = caption, p["caption"], p["parse_mode"], ents
		m.markup, m.buttons = markup, buttons
		result = m.json(true)
	}
	return result, e
}

func (s *Server) editMessageReplyMarkup(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	markup, buttons, e := parseMarkup(p["reply_markup"])
	if e != nil {
		return nil, e
	}
	if bytes.Equal(markup, m.markup) {
		return nil, badRequest(notModified)
	}
	result, e := s.applyEditLocked(m)
	if e == nil {
		m.markup, m.buttons = markup, buttons
		result = m.json(true)
	}
	return result, e
}

func (s *Server) answerCallbackQuery(_ *http.Request, p params, _ []upload) (any, *apiError) {
	id := p["callback_query_id"]
	if id == "" {
		return nil, badRequest("callback_query_id is empty")
	}
	if utf16Len(p["text"]) > maxAnswerTextLen {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queries[id]
	if q == nil || q.answered || s.now().Sub(q.created) > callbackQueryTTL {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	q.answered, q.answeredAt = true, s.now()
	s.broadcastLocked()
	return true, nil
}

// Command is a bot command of setMyCommands.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// commandsKey names a command list by scope and language, and returns the chat a
// chat or chat_member scope names (0 for the others).
func commandsKey(p params) (string, int64, *apiError) {
	lang := p["language_code"]
	if lang != "" && !regexp.MustCompile(`^[a-z]{2}$`).MatchString(lang) {
		return "", 0, badRequest("invalid language code specified")
	}
	var chatID int64
	scope := "default"
	if raw := p["scope"]; raw != "" {
		var v struct {
			Type   string          `json:"type"`
			ChatID json.RawMessage `json:"chat_id"`
			UserID int64           `json:"user_id"`
		}
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return "", 0, badRequest("can't parse BotCommandScope JSON object")
		}
		switch v.Type {
		case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
			scope = v.Type
		case "chat", "chat_administrators", "chat_member":
			id, err := strconv.ParseInt(string(v.ChatID), 10, 64)
			if err != nil {
				return "", 0, badRequest("chat not found")
			}
			chatID = id
			scope = v.Type + ":" + strconv.FormatInt(id, 10)
			if v.Type == "chat_member" {
				if v.UserID == 0 {
					return "", 0, badRequest("user_id is empty")
				}
				scope += ":" + strconv.FormatInt(v.UserID, 10)
			}
		default:
			return "", 0, badRequest("wrong BotCommandScope type specified")
		}
	}
	return scope + "|" + lang, chatID, nil
}

// commandChatLocked checks that the chat a scope names exists. s.mu must be held.
func (s *Server) commandChatLocked(chatID int64) *apiError {
	if chatID != 0 && s.chats[chatID] == nil {
		return badRequest("chat not found")
	}
	return nil
}

func (s *Server) setMyCommands(_ *http.Request, p params, _ []upload) (any, *apiError) {
	key, chatID, e := commandsKey(p)
	if e != nil {
		return nil, e
	}
	raw := p["commands"]
	if raw == "" {
		return nil, badRequest("commands is empty")
	}
	var cmds []Command
	if err := json.Unmarshal([]byte(raw), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for i := range cmds {
		cmds[i].Command = strings.TrimPrefix(strings.TrimSpace(cmds[i].Command), "/")
		cmds[i].Description = strings.TrimSpace(cmds[i].Description)
		if !commandName.MatchString(cmds[i].Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(cmds[i].Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.commandChatLocked(chatID); e != nil {
		return nil, e
	}
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	s.broadcastLocked()
	return true, nil
}

func (s *Server) getMyCommands(_ *http.Request, p params, _ []upload) (any, *apiError) {
	key, _, e := commandsKey(p)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds := append([]Command{}, s.commands[key]...)
	return cmds, nil
}

func (s *Server) deleteMyCommands(_ *http.Request, p params, _ []upload) (any, *apiError) {
	key, chatID, e := commandsKey(p)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.commandChatLocked(chatID); e != nil {
		return nil, e
	}
	delete(s.commands, key)
	s.broadcastLocked()
	return true, nil
}

// CommandsFor returns the commands set with setMyCommands for a scope
// ("default", "all_private_chats", "all_group_chats", "all_chat_administrators",
// "chat:<id>", "chat_administrators:<id>", "chat_member:<id>:<user id>") and a
// language code ("" for all languages).
func (s *Server) CommandsFor(scope, languageCode string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.commands[scope+"|"+languageCode]...)
}

// Commands returns the commands of the default scope for languageCode.
func (s *Server) Commands(languageCode string) []Command {
	return s.CommandsFor("default", languageCode)
}

func memberJSON(status string, user map[string]any) map[string]any {
	m := map[string]any{"status": status, "user": user}
	switch status {
	case "creator":
		m["is_anonymous"] = false
	case "administrator":
		m["is_anonymous"] = false
		m["can_be_edited"] = false
		for _, r := range []string{"can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members", "can_change_info", "can_invite_users", "can_pin_messages", "can_post_stories", "can_edit_stories", "can_delete_stories"} {
			m[r] = true
		}
		m["can_promote_members"] = false
	}
	return m
}

func (s *Server) getChatMember(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	uid, ok := p.int64("user_id")
	if !ok {
		return nil, badRequest("user_id is empty")
	}
	if uid == BotID {
		if c.typ == "private" {
			return memberJSON("member", botUserJSON()), nil
		}
		return memberJSON("administrator", botUserJSON()), nil
	}
	u := s.users[uid]
	if u == nil {
		return nil, badRequest("user not found")
	}
	if c.typ == "private" {
		if c.id != uid {
			return nil, badRequest("user not found")
		}
		return memberJSON("member", u.json()), nil
	}
	status := c.members[uid]
	if status == "" {
		status = "left"
	}
	return memberJSON(status, u.json()), nil
}

func (s *Server) getChatAdministrators(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	if c.typ == "private" {
		return nil, badRequest("there are no administrators in the private chat")
	}
	out := []map[string]any{}
	for _, status := range []string{"creator", "administrator"} {
		for _, id := range sortedMembers(c.members) {
			if c.members[id] == status {
				out = append(out, memberJSON(status, s.users[id].json()))
			}
		}
	}
	out = append(out, memberJSON("administrator", botUserJSON()))
	return out, nil
}

func (s *Server) getChat(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	obj := c.json()
	obj["accent_color_id"] = 0
	obj["max_reaction_count"] = 11
	for i := len(c.messages) - 1; i >= 0; i-- {
		if m := c.messages[i]; m.pinned && !m.deleted {
			obj["pinned_message"] = m.json(false)
			break
		}
	}
	return obj, nil
}

func (s *Server) pinChatMessage(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	id, e := messageIDParam(p)
	if e != nil {
		return nil, e
	}
	m := c.find(id)
	if m == nil || m.deleted {
		return nil, badRequest("message to pin not found")
	}
	if e := canWriteLocked(c); e != nil {
		return nil, e
	}
	m.pinned = true
	s.broadcastLocked()
	return true, nil
}

func (s *Server) unpinChatMessage(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	var target *message
	if id, ok := p.int64("message_id"); ok {
		target = c.find(int(id))
	} else {
		for i := len(c.messages) - 1; i >= 0 && target == nil; i-- {
			if c.messages[i].pinned {
				target = c.messages[i]
			}
		}
	}
	if target == nil || target.deleted || !target.pinned {
		return nil, badRequest("message to unpin not found")
	}
	target.pinned = false
	s.broadcastLocked()
	return true, nil
}

func (s *Server) deleteMessage(_ *http.Request, p params, _ []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatLocked(p)
	if e != nil {
		return nil, e
	}
	id, e := messageIDParam(p)
	if e != nil {
		return nil, e
	}
	m := c.find(id)
	if m == nil || m.deleted {
		return nil, badRequest("message to delete not found")
	}
	if s.now().Sub(m.date) > maxDeleteAge {
		return nil, badRequest("message can't be deleted")
	}
	m.deleted = true
	m.pinned = false
	s.broadcastLocked()
	return true, nil
}

func (s *Server) getFile(_ *http.Request, p params, _ []upload) (any, *apiError) {
	id := p["file_id"]
	if id == "" {
		return nil, badRequest("file_id is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[id]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	if len(f.data) > maxDownloadSize {
		return nil, badRequest("file is too big")
	}
	return map[string]any{"file_id": f.id, "file_unique_id": f.uniqueID, "file_size": len(f.data), "file_path": f.path}, nil
}

func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	token, p, ok := strings.Cut(rest, "/")
	if !ok || token != s.Token {
		writeError(w, errUnauthorized)
		return
	}
	s.mu.Lock()
	var found *file
	for _, f := range s.files {
		if f.path == p {
			found = f
		}
	}
	s.mu.Unlock()
	if found == nil {
		writeError(w, errNotFound)
		return
	}
	w.Header().Set("Content-Type", found.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(found.data)))
	_, _ = w.Write(found.data)
}

// editMessageMedia replaces the photo or document of a bot message (and its
// caption), by upload ("attach://<field>") or by file_id, as the Bot API does:
// media is a JSON InputMedia; a text message has no media to replace.
func (s *Server) editMessageMedia(_ *http.Request, p params, up []upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	var in struct {
		Type      string `json:"type"`
		Media     string `json:"media"`
		Caption   string `json:"caption"`
		ParseMode string `json:"parse_mode"`
	}
	if !p.has("media") {
		return nil, badRequest("there is no media in the request")
	}
	if err := json.Unmarshal([]byte(p["media"]), &in); err != nil {
		return nil, badRequest("can't parse InputMedia JSON object")
	}
	if in.Type != "photo" && in.Type != "document" {
		return nil, badRequest("unsupported media type %q", in.Type)
	}
	if m.doc == nil && m.photo == nil {
		return nil, badRequest("there is no media in the message to edit")
	}
	var f *file
	var pending *upload
	var width, height int
	if field, ok := strings.CutPrefix(in.Media, "attach://"); ok {
		for i := range up {
			if up[i].field == field {
				pending = &up[i]
			}
		}
		if pending == nil {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		if len(pending.data) == 0 {
			return nil, badRequest("file must be non-empty")
		}
		if in.Type == "photo" {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(pending.data))
			if err != nil {
				return nil, badRequest("IMAGE_PROCESS_FAILED")
			}
			width, height = cfg.Width, cfg.Height
		}
	} else {
		f = s.files[in.Media]
		if f == nil {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		if f.kind != in.Type {
			return nil, badRequest("can't use file of type %s as %s", kindNames[f.kind], kindNames[in.Type])
		}
	}
	caption, ents, e := formatCaption(in.Caption, in.ParseMode)
	if e != nil {
		return nil, e
	}
	markup, buttons, e := parseMarkup(p["reply_markup"])
	if e != nil {
		return nil, e
	}
	if f != nil && (m.photo == f || m.doc == f) && caption == m.caption && sameEntities(ents, m.captEnts) && bytes.Equal(markup, m.markup) {
		return nil, badRequest(notModified)
	}
	result, e := s.applyEditLocked(m)
	if e != nil {
		return result, e
	}
	if pending != nil {
		f = s.storeFileLocked(in.Type, pending.name, pending.mime, pending.data)
		f.width, f.height = width, height
	}
	m.photo, m.doc = nil, nil
	if in.Type == "photo" {
		m.photo = f
	} else {
		m.doc = f
	}
	m.caption, m.rawCapt, m.mode, m.captEnts = caption, in.Caption, in.ParseMode, ents
	m.markup, m.buttons = markup, buttons
	return m.json(true), nil
}
