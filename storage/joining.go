package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/redis/go-redis/v9"
)

// Joining: one pending request per user and cell, checked as it is made;
// pending requests are listed and expire; the bot knows who opened a private
// chat with it; a group the bot was removed from is unbound from its cell, and
// /setup there binds the same cell again.

// JoinRequests returns a cell's pending requests, oldest first.
func (s *Store) JoinRequests(ctx context.Context, cellID int64) ([]JoinRequest, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Joins(cellID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: join requests of cell %d: %w", cellID, err)
	}
	out := make([]JoinRequest, 0, len(h))
	for _, v := range h {
		var r JoinRequest
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			continue // one bad entry must not hide the others
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b JoinRequest) int {
		if a.At != b.At {
			return int(a.At - b.At)
		}
		return int(a.UserID - b.UserID)
	})
	return out, nil
}

// ExpireJoin removes a user's pending request if it is still the one made at
// at, and reports whether it did; a request made again meanwhile stays.
func (s *Store) ExpireJoin(ctx context.Context, cellID, userID, at int64) (bool, error) {
	return s.dropJoin(ctx, cellID, userID, at)
}

func (s *Store) dropJoin(ctx context.Context, cellID, userID, at int64) (bool, error) {
	key, field := s.keys.Joins(cellID), strconv.FormatInt(userID, 10)
	dropped := false
	err := s.cellTx(ctx, func(tx *redis.Tx) error {
		dropped = false
		v, err := tx.HGet(ctx, key, field).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		var r JoinRequest
		if err := json.Unmarshal([]byte(v), &r); err == nil && at >= 0 && r.At != at {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HDel(ctx, key, field)
			return nil
		})
		dropped = err == nil
		return err
	}, key)
	if err != nil {
		return false, fmt.Errorf("storage: drop join request of user %d in cell %d: %w", userID, cellID, err)
	}
	if dropped {
		return true, s.clearJoinPending(ctx, userID, cellID)
	}
	return false, nil
}

// WithdrawJoin removes a user's own pending request if it is still the one
// made at at, and reports whether it did.
func (s *Store) WithdrawJoin(ctx context.Context, cellID, userID, at int64) (bool, error) {
	return s.dropJoin(ctx, cellID, userID, at)
}

// NoticeLimit bounds the committee's notices of one user's join requests to a
// cell: at most N within Per.
type NoticeLimit struct {
	N   int
	Per time.Duration
}

// JoinRequested is what RequestJoin found or did.
type JoinRequested struct {
	// Request is the user's pending request: the one just made (Made), or the
	// one that was waiting already, left as it was.
	Request JoinRequest
	Made    bool
	// Notify: the committee is to be told of the request just made. False once
	// the user's requests to the cell had the limit's notices: the request
	// waits, listed first in /members, all the same.
	Notify bool
}

// requestJoinScript records a user's join request unless one is pending, with
// the checks a request must pass at the moment it is made.
//
// KEYS[1] joins HASH, KEYS[2] users HASH, KEYS[3] members HASH, KEYS[4] names
// HASH, KEYS[5] the user's notices STRING
// ARGV[1] user id, ARGV[2] the request (JSON), ARGV[3] the entry claimed (0 for
// a new name), ARGV[4] the new name's identity, ARGV[5] notices allowed,
// ARGV[6] the window they are counted in, ms
// Returns {0, 1 or 0}: recorded, and whether the committee is to be told;
// {1, request}: a request was pending already; {2}: the account is linked in
// the cell; {3}: the entry is gone; {4}: the entry is linked to an account;
// {5}: the new name is an entry's.
var requestJoinScript = newScript(`
local pending = redis.call('HGET', KEYS[1], ARGV[1])
if pending then return {1, pending} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {2} end
if ARGV[3] ~= '0' then
  local e = redis.call('HGET', KEYS[3], ARGV[3])
  if not e then return {3} end
  local m = cjson.decode(e)
  local uid = m['user_id']
  if (type(uid) == 'number' and uid ~= 0) or m['unlisted'] == true then return {4} end
elseif redis.call('HEXISTS', KEYS[4], ARGV[4]) == 1 then
  return {5}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local n = redis.call('INCR', KEYS[5])
if n == 1 then redis.call('PEXPIRE', KEYS[5], ARGV[6]) end
if n <= tonumber(ARGV[5]) then return {0, 1} end
return {0, 0}
`)

// RequestJoin records a user's request to join a cell, one per user and cell:
// while one is pending, it is returned as it is (Made false) and nothing is
// recorded. A request claims the roster entry r.MemberID, which must exist and
// have no account (ErrNotFound, ErrMemberLinked), or gives a new name, which
// must be no entry's (ErrNameListed); ErrUserLinked when the account is linked
// in the cell already. The user is kept (see UserTTL) while it waits.
func (s *Store) RequestJoin(ctx context.Context, cellID int64, r JoinRequest, limit NoticeLimit) (JoinRequested, error) {
	k := s.keys
	wrap := func(err error) error {
		return fmt.Errorf("storage: join request of user %d to cell %d: %w", r.UserID, cellID, err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return JoinRequested{}, wrap(err)
	}
	keys := []string{k.Joins(cellID), k.Users(cellID), k.Members(cellID), k.Names(cellID), k.JoinNotices(cellID, r.UserID)}
	res, err := requestJoinScript.Run(ctx, s.rdb, keys, r.UserID, b, r.MemberID, cell.Key(r.Name), limit.N, limit.Per.Milliseconds()).Slice()
	if err != nil {
		return JoinRequested{}, wrap(err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 0:
		notify, _ := res[1].(int64)
		if err := s.markJoinPending(ctx, r.UserID, cellID); err != nil {
			return JoinRequested{}, err
		}
		return JoinRequested{Request: r, Made: true, Notify: notify == 1}, nil
	case 1:
		raw, _ := res[1].(string)
		var pending JoinRequest
		if err := json.Unmarshal([]byte(raw), &pending); err != nil {
			return JoinRequested{}, wrap(err)
		}
		return JoinRequested{Request: pending}, nil
	case 2:
		return JoinRequested{}, wrap(ErrUserLinked)
	case 3:
		return JoinRequested{}, wrap(ErrNotFound)
	case 4:
		return JoinRequested{}, wrap(ErrMemberLinked)
	case 5:
		return JoinRequested{}, wrap(ErrNameListed)
	}
	return JoinRequested{}, wrap(fmt.Errorf("unexpected reply %v", res))
}

// RejectJoinAt removes a pending request if it is the one made at at (any, for
// at < 0); ErrNotPending otherwise.
func (s *Store) RejectJoinAt(ctx context.Context, cellID, userID, at int64) (JoinRequest, error) {
	r, err := s.JoinRequestOf(ctx, cellID, userID)
	if err != nil {
		return JoinRequest{}, err
	}
	ok, err := s.dropJoin(ctx, cellID, userID, at)
	if err != nil {
		return JoinRequest{}, err
	}
	if !ok {
		return JoinRequest{}, ErrNotPending
	}
	return r, nil
}

// SetOpened records that a user opened a private chat with the bot, so that it
// may write to them, and their Telegram language (see UpdateStart.TelegramLang).
func (s *Store) SetOpened(ctx context.Context, userID int64, telegramLang string) error {
	fields := []string{"opened", "1"}
	switch telegramLang {
	case "":
	case NoTelegramLang:
		fields = append(fields, "tglang", "") // an empty value removes it
	default:
		fields = append(fields, "tglang", telegramLang)
	}
	if _, err := s.touchUser(ctx, userID, 0, 0, fields...); err != nil {
		return fmt.Errorf("storage: user %d opened the bot: %w", userID, err)
	}
	return nil
}

// Opened reports whether a user opened a private chat with the bot.
func (s *Store) Opened(ctx context.Context, userID int64) (bool, error) {
	v, err := s.rdb.HGet(ctx, s.keys.User(userID), "opened").Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: has user %d opened the bot: %w", userID, err)
	}
	return v == "1", nil
}

// UnbindChat unbinds a group from its cell, keeping the cell's data, and
// remembers the cell so that /setup in that group binds it again. ErrNotFound
// when the group was no cell.
func (s *Store) UnbindChat(ctx context.Context, chatID int64) (cell.Cell, error) {
	c, err := s.CellByChat(ctx, chatID)
	if err != nil {
		return cell.Cell{}, err
	}
	// The former binding first: a crash in between leaves the group bound.
	if err := s.rdb.Set(ctx, s.keys.FormerChatCell(chatID), c.ID, 0).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: remember cell %d of chat %d: %w", c.ID, chatID, err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Cell(c.ID), "chat", 0).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: unbind cell %d: %w", c.ID, err)
	}
	if err := s.rdb.Del(ctx, s.keys.ChatCell(chatID)).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: unbind chat %d: %w", chatID, err)
	}
	return c, nil
}

// RebindChat binds a group again to the cell it was bound to before the bot was
// removed from it. ErrNotFound when there is none; ErrAlreadyBound (with the
// cell) when the group is bound already.
func (s *Store) RebindChat(ctx context.Context, chatID int64) (cell.Cell, error) {
	id, err := s.rdb.Get(ctx, s.keys.FormerChatCell(chatID)).Int64()
	if errors.Is(err, redis.Nil) {
		return cell.Cell{}, ErrNotFound
	}
	if err != nil {
		return cell.Cell{}, fmt.Errorf("storage: former cell of chat %d: %w", chatID, err)
	}
	c, err := s.Cell(ctx, id)
	if err != nil {
		return cell.Cell{}, err
	}
	ok, err := s.rdb.SetNX(ctx, s.keys.ChatCell(chatID), id, 0).Result()
	if err != nil {
		return cell.Cell{}, fmt.Errorf("storage: bind chat %d to cell %d: %w", chatID, id, err)
	}
	if !ok {
		existing, err := s.CellByChat(ctx, chatID)
		if err != nil {
			return cell.Cell{}, err
		}
		return existing, ErrAlreadyBound
	}
	if err := s.rdb.HSet(ctx, s.keys.Cell(id), "chat", chatID).Err(); err != nil {
		return cell.Cell{}, fmt.Errorf("storage: rebind cell %d: %w", id, err)
	}
	_ = s.rdb.Del(ctx, s.keys.FormerChatCell(chatID)).Err()
	c.ChatID = chatID
	return c, nil
}

// CellIDs lists every cell's id.
func (s *Store) CellIDs(ctx context.Context) ([]int64, error) {
	vs, err := s.rdb.SMembers(ctx, s.keys.Cells()).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: list cells: %w", err)
	}
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// TellGroupNobodyHears reports whether the cell's group should now be told that
// no committee member can receive join requests: true at most once per every.
func (s *Store) TellGroupNobodyHears(ctx context.Context, cellID int64, every time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keys.JoinsUnheard(cellID), 1, every).Result()
	if err != nil {
		return false, fmt.Errorf("storage: join notice flag of cell %d: %w", cellID, err)
	}
	return ok, nil
}

// HeardByCommittee clears that flag: a committee member opened the bot.
func (s *Store) HeardByCommittee(ctx context.Context, cellID int64) error {
	if err := s.rdb.Del(ctx, s.keys.JoinsUnheard(cellID)).Err(); err != nil {
		return fmt.Errorf("storage: join notice flag of cell %d: %w", cellID, err)
	}
	return nil
}
