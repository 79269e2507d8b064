package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Update claim states.
const (
	UpdateClaimed    = iota // this caller handles it now
	UpdateDone              // handled before: skip it
	UpdateInProgress        // another handler holds it: try again later
)

// An update's record holds "done" once it was handled, or the token of the
// handler that holds it, under a short lease the handler renews while it runs
// (RenewUpdate): after a crash the update can be taken up again as soon as the
// lease ends.
//
// The claim is one SET NX GET: the key set to the token when it was free, and
// the value found there (the holder's token, or "done") when not.

// ClaimUpdate claims an update for handling under token (unique to this
// handling). The claim lasts lease unless renewed; FinishUpdate keeps it as done
// for a long while, ReleaseUpdate drops it so a redelivery is handled again.
func (s *Store) ClaimUpdate(ctx context.Context, key, token string, lease time.Duration) (int, error) {
	n, err := claimState(s.claimUpdate(ctx, s.rdb, key, token, lease))
	if err != nil {
		return 0, fmt.Errorf("storage: claim update %s: %w", key, err)
	}
	return n, nil
}

func (s *Store) claimUpdate(ctx context.Context, c redis.Cmdable, key, token string, lease time.Duration) *redis.StatusCmd {
	return c.SetArgs(ctx, s.keys.Update(key), token, redis.SetArgs{Mode: "NX", TTL: lease, Get: true})
}

// claimState reads claimUpdate's reply: UpdateClaimed, UpdateDone or
// UpdateInProgress.
func claimState(cmd *redis.StatusCmd) (int, error) {
	v, err := cmd.Result()
	switch {
	case errors.Is(err, redis.Nil):
		return UpdateClaimed, nil
	case err != nil:
		return 0, err
	case v == "done":
		return UpdateDone, nil
	}
	return UpdateInProgress, nil
}

// UpdateStart names what StartUpdate claims and reads as an update arrives.
type UpdateStart struct {
	Key, Token string        // the update's claim, as for ClaimUpdate
	Lease      time.Duration // the claim's lease
	UserID     int64         // the sender
	// GroupChatID is the group the update came from, 0 in a private chat: the
	// update acts on the group's cell, else on the sender's current cell.
	GroupChatID int64
	// CellID, when not 0, is the cell the update names (a button's): the
	// actor's cell is that one, read in the same round trip.
	CellID int64
	// ChatID is the chat replies go to, to tell whether the queue holds
	// something urgent for it (see ChatQueued).
	ChatID int64
	// Flood, when set, counts the update against its sender's limit (see
	// CountUpdate), in the same round trip.
	Flood FloodLimit
	// TelegramLang is the sender's Telegram language when the bot speaks it
	// and it is not the default ("en"), NoTelegramLang for any other, "" when
	// the update does not say. It is kept for a user the bot keeps, so that
	// what the bot sends them unasked (notices, reminders, broadcasts) is in
	// it too.
	TelegramLang string
}

// Started is an update's claim and what the bot knows of its sender.
type Started struct {
	State int // UpdateClaimed, UpdateDone or UpdateInProgress
	// Flood is what the sender's update limit says, when State is
	// UpdateClaimed. When it is not FloodOK, nothing more was read of the
	// sender but their language (Actor.Lang), and the claim is left to lapse
	// with its lease: the update is dropped, and an ignored user's updates
	// leave no record behind for days.
	Flood Flood
	Actor Actor // read only when State is UpdateClaimed
	// RepliesQueued is true when the queue holds an urgent message for ChatID
	// or sends one now: a reply then joins the chat's lane, behind it.
	RepliesQueued bool
}

// StartUpdate claims an update (as ClaimUpdate), counts it against its
// sender's update limit, and reads the sender's language, cell and member
// record, and whether the queue holds something urgent for the chat (and
// renews the TTL of a sender who is kept for UserTTL only), in one round trip
// when the update names its cell or the sender has none, and in two otherwise
// (the user's keys say which cell to read). On an error the update is not left
// claimed.
func (s *Store) StartUpdate(ctx context.Context, u UpdateStart) (Started, error) {
	var claim *redis.StatusCmd
	var actor, flood *redis.Cmd
	var user *redis.SliceCmd
	var chat *redis.StringCmd
	var replies *redis.IntCmd
	err := s.pipelined(ctx, func(p *pipe) {
		claim = s.claimUpdate(ctx, p, u.Key, u.Token, u.Lease)
		if u.Flood.Updates > 0 {
			flood = s.countUpdate(ctx, p, u.UserID, u.Key, u.Flood)
		}
		user = p.HMGet(ctx, s.keys.User(u.UserID), "lang", "cell", "tglang")
		// A user kept for UserTTL only is kept that long again from their
		// last update; XX leaves members' hashes, which have no TTL, as they are.
		p.ExpireXX(ctx, s.keys.User(u.UserID), UserTTL)
		switch {
		case u.CellID != 0:
			actor = p.eval(ctx, actorScript, s.actorKeys(u.CellID), u.UserID)
		case u.GroupChatID != 0:
			chat = p.Get(ctx, s.keys.ChatCell(u.GroupChatID))
		}
		if u.ChatID != 0 {
			replies = s.chatQueued(ctx, p, u.ChatID)
		}
	})
	if err != nil {
		return Started{}, fmt.Errorf("storage: start update %s: %w", u.Key, err)
	}
	state, err := claimState(claim)
	if err != nil {
		return Started{}, fmt.Errorf("storage: claim update %s: %w", u.Key, err)
	}
	st := Started{State: state}
	if state != UpdateClaimed {
		return st, nil
	}
	if flood != nil {
		if st.Flood, err = floodOf(flood); err != nil {
			return Started{}, s.releaseAfter(ctx, u, fmt.Errorf("storage: count update %s: %w", u.Key, err))
		}
		if st.Flood.State != FloodOK {
			st.Actor.Lang, _ = userCell(user, nil)
			return st, nil
		}
	}
	st.RepliesQueued = replies != nil && replies.Val() > 0
	if telegramLangChanged(user, u.TelegramLang) {
		// Rare (a user's first update, or their phone's language changed):
		// a round trip of its own, not a script on every update.
		if err := telegramLangScript.Run(ctx, s.rdb, []string{s.keys.User(u.UserID)}, u.TelegramLang).Err(); err != nil {
			return Started{}, s.releaseAfter(ctx, u, fmt.Errorf("storage: keep the Telegram language of user %d: %w", u.UserID, err))
		}
	}
	lang, cellID := userCell(user, chat)
	st.Actor.Lang = lang
	switch {
	case u.CellID != 0:
		var res []any
		if res, err = actor.Slice(); err != nil {
			return Started{}, fmt.Errorf("storage: load user %d in cell %d: %w", u.UserID, u.CellID, err)
		}
		err = st.Actor.fill(u.CellID, res)
	case cellID != 0:
		err = s.actorIn(ctx, &st.Actor, cellID, u.UserID)
	}
	if err != nil {
		return Started{}, s.releaseAfter(ctx, u, err)
	}
	return st, nil
}

// releaseAfter releases a claim StartUpdate took before failing: the update is
// handled when it comes again.
func (s *Store) releaseAfter(ctx context.Context, u UpdateStart, err error) error {
	if rerr := s.ReleaseUpdate(context.WithoutCancel(ctx), u.Key, u.Token); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

var renewUpdateScript = newScript(`
-- KEYS[1] update key; ARGV[1] token; ARGV[2] lease ms
-- returns 1 renewed, 0 the claim is no longer this token's
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// RenewUpdate extends the claim held under token to lease from now. It reports
// false when the claim is no longer the token's (its lease ended and another
// handler took it, or it was finished).
func (s *Store) RenewUpdate(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	n, err := renewUpdateScript.Run(ctx, s.rdb, []string{s.keys.Update(key)}, token, lease.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("storage: renew update %s: %w", key, err)
	}
	return n == 1, nil
}

// FinishUpdate records an update as handled, for keep (Telegram keeps updates
// for 24 hours, so a few days is plenty).
func (s *Store) FinishUpdate(ctx context.Context, key string, keep time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys.Update(key), "done", keep).Err(); err != nil {
		return fmt.Errorf("storage: finish update %s: %w", key, err)
	}
	return nil
}

var releaseUpdateScript = newScript(`
-- KEYS[1] update key; ARGV[1] token
-- returns 1 released, 0 the claim was not this token's
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// ReleaseUpdate forgets a claim held under token whose handling failed or was
// cut off, so that the update is handled when it comes again. A claim that is
// no longer the token's is left alone.
func (s *Store) ReleaseUpdate(ctx context.Context, key, token string) error {
	if err := releaseUpdateScript.Run(ctx, s.rdb, []string{s.keys.Update(key)}, token).Err(); err != nil {
		return fmt.Errorf("storage: release update %s: %w", key, err)
	}
	return nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// AnsweredTTL is how long a press is remembered as answered: far beyond the
// few seconds within which Telegram takes an answer, and a restart's.
const AnsweredTTL = time.Hour

// ClaimAnswer reports whether the caller is the first, in any process, to
// answer the button press callbackID: it records the answer with SET NX.
func (s *Store) ClaimAnswer(ctx context.Context, callbackID string) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keys.Answered(callbackID), 1, AnsweredTTL).Result()
	if err != nil {
		return false, fmt.Errorf("storage: claim the answer to press %s: %w", callbackID, err)
	}
	return ok, nil
}
