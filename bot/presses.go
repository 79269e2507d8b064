package bot

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
)

// answerWithin is how long a button press waits for its handler's own answer
// (which may carry a text) before it is answered without one. Telegram shows a
// spinner until a press is answered, and the handler may be waiting behind its
// chat's earlier updates, Redis, or the chat's rate limit.
const answerWithin = 300 * time.Millisecond

// presses makes sure each button press is answered once, and soon: the first of
// the handler (request.answerCallback) and the timer started on arrival wins.
type presses struct {
	mu    sync.Mutex
	m     map[string]*press // by callback query id
	users map[int64]int     // presses in hand (arrived, not handled) by presser
}

type press struct {
	answered bool
	timer    *time.Timer
	user     int64 // the presser, for a press that arrived (0 otherwise)
}

// take reports whether the caller is the first to answer the press, and marks it
// answered.
func (p *presses) take(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*press{}
	}
	pr := p.m[id]
	if pr == nil {
		p.m[id] = &press{answered: true}
		return true
	}
	if pr.answered {
		return false
	}
	pr.answered = true
	return true
}

// forget drops a press once its update was handled.
func (p *presses) forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr := p.m[id]; pr != nil {
		if pr.timer != nil {
			pr.timer.Stop()
		}
		delete(p.m, id)
		if pr.user != 0 {
			if p.users[pr.user]--; p.users[pr.user] <= 0 {
				delete(p.users, pr.user)
			}
		}
	}
}

// instantPress reports whether a press is answered on arrival, without waiting
// for its handler: an RSVP button in a private chat, whose handler shows the
// member's answer by editing the very message pressed (a refusal too), so the
// spinner need not wait for Redis.
func instantPress(q *telegram.CallbackQuery) bool {
	return q.Message != nil && q.Message.Chat.IsPrivate() && strings.HasPrefix(q.Data, buttonVersion+":"+verbRSVP+":")
}

// Arrived is called by the poller and the webhook as soon as an update is
// received, before it waits for its chat's earlier updates. It returns false
// for an update not to be handled at all: its sender is being ignored for
// sending too many (a press of theirs is answered with a short text). For a
// button press it starts the clock: if the handler has not answered within
// Params.AnswerWithin, the press is answered without a text.
func (b *Bot) Arrived(ctx context.Context, u telegram.Update) bool {
	if b.dropIgnored(ctx, u) {
		return false
	}
	if u.CallbackQuery == nil {
		return true
	}
	id := u.CallbackQuery.ID
	b.presses.mu.Lock()
	defer b.presses.mu.Unlock()
	if b.presses.m == nil {
		b.presses.m = map[string]*press{}
	}
	if b.presses.users == nil {
		b.presses.users = map[int64]int{}
	}
	if b.presses.m[id] != nil {
		return true
	}
	user := u.CallbackQuery.From.ID
	pr := &press{user: user}
	b.presses.m[id] = pr
	wait := b.p.AnswerWithin
	// A press that comes while another of the presser's is in hand may be
	// one too many (the sender's update limit), to be answered with a word
	// saying it was not recorded: it waits for its handler like any other.
	if instantPress(u.CallbackQuery) && b.presses.users[user] == 0 {
		wait = 0
	}
	if user != 0 {
		b.presses.users[user]++
	}
	pr.timer = time.AfterFunc(wait, func() {
		if !b.presses.take(id) {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := b.answerPress(actx, telegram.AnswerCallbackQuery{ID: id}); err != nil {
			b.p.Logger.Debug("answer a press early", "update_id", u.UpdateID, "err", err)
		}
	})
	return true
}

// answerPress answers a button press unless it was answered before, by this
// process or another: a press answered just before a crash comes again with
// its update, and a second answer would only draw Telegram's "query is too
// old". When Redis cannot tell, the press is answered: a spinner that never
// stops is worse than a refused second answer.
func (b *Bot) answerPress(ctx context.Context, a telegram.AnswerCallbackQuery) error {
	if b.p.Store == nil { // a bot built without state, in tests of its routing
		return b.p.Telegram.Do(ctx, a, nil)
	}
	first, err := b.p.Store.ClaimAnswer(ctx, a.ID)
	if err != nil {
		b.p.Logger.Warn("record a press's answer; answering anyway", "err", err)
	} else if !first {
		return nil
	}
	return b.p.Telegram.Do(ctx, a, nil)
}
