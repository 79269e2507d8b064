package bot

import (
	"context"
	"sync"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// The per-user update limit: a user who sends more than floodUpdates updates
// within floodWindow is told once to slow down, and their updates are ignored
// for floodMute, so that one account cannot slow the bot for everyone else.
// Committee members too; but an ignored press, anyone's, is answered with a
// short text rather than left spinning, so that nobody takes a press the bot
// did not record for one it did. The count is kept in Redis, on its clock, for
// every replica (storage.FloodLimit), in StartUpdate's round trip.
const (
	floodUpdates = 20
	floodWindow  = 10 * time.Second
	floodMute    = time.Minute
)

// ignoredUsers remembers, in this process, the users whose updates are being
// ignored, until when (this process's monotonic clock) and in which language
// they were told, as StartUpdate reported it: their later updates are dropped
// as they arrive (Arrived), before any round trip and without waiting in their
// chat's lane. Redis holds the truth; this only saves asking it. The time comes
// from the wall clock, not Params.Now: the mute runs on Redis's real time even
// when tests move the bot's clock.
type ignoredUsers struct {
	mu sync.Mutex
	m  map[int64]ignoredUser
}

type ignoredUser struct {
	until time.Time
	lang  string
}

// sweepAt is the number of users remembered above which adding one first drops
// those whose time is over.
const sweepAt = 1024

func (g *ignoredUsers) add(userID int64, left time.Duration, lang string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if g.m == nil {
		g.m = map[int64]ignoredUser{}
	}
	if len(g.m) >= sweepAt {
		for id, u := range g.m {
			if !now.Before(u.until) {
				delete(g.m, id)
			}
		}
	}
	g.m[userID] = ignoredUser{until: now.Add(left), lang: lang}
}

// get reports whether the user's updates are being ignored, and the language
// they were told in.
func (g *ignoredUsers) get(userID int64) (lang string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u, ok := g.m[userID]
	if !ok {
		return "", false
	}
	if !time.Now().Before(u.until) {
		delete(g.m, userID)
		return "", false
	}
	return u.lang, true
}

// dropIgnored drops, as it arrives, an update of a user known to be ignored,
// answering a press with the short text. It reports whether it dropped it.
func (b *Bot) dropIgnored(ctx context.Context, u telegram.Update) bool {
	from := u.SenderID()
	if from == 0 {
		return false
	}
	lang, ok := b.ignored.get(from)
	if !ok {
		return false
	}
	b.p.Logger.Debug("update dropped: its sender is ignored for a while", "update_id", u.UpdateID, "user_id", from)
	if q := u.CallbackQuery; q != nil {
		text := texts.Cut(texts.Plain(texts.T(lang, texts.CommonFloodPress)), texts.MaxAlert)
		go func() {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := b.answerPress(actx, telegram.AnswerCallbackQuery{ID: q.ID, Text: text}); err != nil {
				b.p.Logger.Debug("answer an ignored press", "update_id", u.UpdateID, "err", err)
			}
		}()
	}
	return true
}

// ignore drops an update that StartUpdate found over its sender's limit.
// Nothing is read or done for it but telling the user once (the update that
// went over), and answering a press. Its claim lapses with its lease: no record
// of an ignored user's updates is kept for days.
func (b *Bot) ignore(r *request, start storage.Started) {
	r.lang = b.lang(r, start.Actor.Lang)
	b.ignored.add(r.from.ID, start.Flood.Left, r.lang)
	if start.Flood.State != storage.FloodOver {
		r.log.Debug("update dropped: its sender is ignored for a while")
		r.answerCallback(r.t(texts.CommonFloodPress), false)
		return
	}
	r.log.Info("a user sent too many updates; ignoring theirs for a while", "for", start.Flood.Left.String(),
		"limit", b.p.Flood.Updates, "window", b.p.Flood.Window.String())
	notice := r.t(texts.CommonFlood)
	switch {
	case r.update.MyChatMember != nil:
		// The bot's membership changed: no chat to say it in.
	case r.cb == nil:
		r.reply(notice)
	case r.answerCallback(notice, true):
	case r.chat.IsPrivate():
		// The press was answered on arrival, without a word: say it in the chat.
		r.reply(notice)
	}
}
