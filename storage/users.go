package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// UserLang returns the language a user chose with /lang, "" when none.
func (s *Store) UserLang(ctx context.Context, userID int64) (string, error) {
	v, err := s.rdb.HGet(ctx, s.keys.User(userID), "lang").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("storage: language of user %d: %w", userID, err)
	}
	return v, nil
}

// NoTelegramLang is UpdateStart.TelegramLang for a user whose Telegram is in
// a language the bot keeps no record of (Vietnamese, or one it does not
// speak): what they get follows their cell's language.
const NoTelegramLang = "-"

// telegramLangScript keeps a user's Telegram language (ARGV[1]: a language,
// NoTelegramLang to forget it, "" when the update did not say) in their hash,
// if the bot keeps one for them: a stranger's update creates nothing. It
// writes only when the language changed.
var telegramLangScript = newScript(`
if ARGV[1] == '' then return 0 end
local cur = redis.call('HGET', KEYS[1], 'tglang')
if ARGV[1] == '` + NoTelegramLang + `' then
  if cur then redis.call('HDEL', KEYS[1], 'tglang') end
  return 0
end
if cur ~= ARGV[1] and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'tglang', ARGV[1])
end
return 0
`)

// SetUserLang records a user's language.
func (s *Store) SetUserLang(ctx context.Context, userID int64, lang string) error {
	if _, err := s.touchUser(ctx, userID, 0, 0, "lang", lang); err != nil {
		return fmt.Errorf("storage: set language of user %d: %w", userID, err)
	}
	return nil
}

// UserTTL is how long the bot keeps what it knows of a user who belongs to no
// cell and has no join request pending (their language, that they opened the
// bot) after they last wrote to it. Anyone may send /start, so without it every
// passer-by would stay in Redis for good; members and those waiting to join are
// kept without end.
const UserTTL = 30 * 24 * time.Hour

// joinMark is the field of a user's hash that marks a join request pending in
// a cell: while one is, the user is kept.
func joinMark(cellID int64) string { return "join:" + strconv.FormatInt(cellID, 10) }

// touchUserScript changes a user's own keys and then keeps the user's hash (no
// TTL) while they belong to a cell or have a join request pending, or gives it
// UserTTL otherwise.
//
// KEYS[1] user HASH, KEYS[2] user's cells SET
// ARGV[1] the TTL in ms
// ARGV[2] a cell joined, "" none: added to the cells, made the current one, its
// pending mark removed
// ARGV[3] a cell left, "" none: removed from the cells; the current cell becomes
// another of theirs, or none
// ARGV[4..] field, value pairs to set in the hash; an empty value removes the field
// Returns 1 when the user is kept, 0 when their hash expires (or there is none).
var touchUserScript = newScript(`
if ARGV[2] ~= '' then
  redis.call('SADD', KEYS[2], ARGV[2])
  redis.call('HSET', KEYS[1], 'cell', ARGV[2])
  redis.call('HDEL', KEYS[1], 'join:' .. ARGV[2])
end
if ARGV[3] ~= '' then
  redis.call('SREM', KEYS[2], ARGV[3])
  if redis.call('HGET', KEYS[1], 'cell') == ARGV[3] then
    local rest = redis.call('SMEMBERS', KEYS[2])
    if #rest > 0 then
      table.sort(rest, function(a, b) return tonumber(a) < tonumber(b) end)
      redis.call('HSET', KEYS[1], 'cell', rest[1])
    else
      redis.call('HDEL', KEYS[1], 'cell')
    end
  end
end
for i = 4, #ARGV - 1, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local keep = redis.call('SCARD', KEYS[2]) > 0
if not keep then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(f, 1, 5) == 'join:' then keep = true break end
  end
end
if keep then
  redis.call('PERSIST', KEYS[1])
  return 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0
`)

// touchUser runs touchUserScript: joined and left are cells (0 none), fields
// are field, value pairs.
func (s *Store) touchUser(ctx context.Context, userID, joined, left int64, fields ...string) (bool, error) {
	cellArg := func(id int64) string {
		if id == 0 {
			return ""
		}
		return strconv.FormatInt(id, 10)
	}
	args := make([]any, 0, 3+len(fields))
	args = append(args, UserTTL.Milliseconds(), cellArg(joined), cellArg(left))
	for _, f := range fields {
		args = append(args, f)
	}
	n, err := touchUserScript.Run(ctx, s.rdb, []string{s.keys.User(userID), s.keys.UserCells(userID)}, args...).Int()
	return n == 1, err
}

// AddUserCell records that a user belongs to a cell and makes it the cell their
// private commands act on; the user is kept from now on.
func (s *Store) AddUserCell(ctx context.Context, userID, cellID int64) error {
	if _, err := s.touchUser(ctx, userID, cellID, 0); err != nil {
		return fmt.Errorf("storage: add cell %d to user %d: %w", cellID, userID, err)
	}
	return nil
}

// LeaveUserCell records that a user no longer belongs to a cell (their link
// there ended). Their private commands act on another of their cells, if any;
// a user left in no cell and with no join request pending is kept for UserTTL
// only.
func (s *Store) LeaveUserCell(ctx context.Context, userID, cellID int64) error {
	if _, err := s.touchUser(ctx, userID, 0, cellID); err != nil {
		return fmt.Errorf("storage: remove cell %d from user %d: %w", cellID, userID, err)
	}
	return nil
}

// markJoinPending keeps a user while their join request to a cell waits.
func (s *Store) markJoinPending(ctx context.Context, userID, cellID int64) error {
	if _, err := s.touchUser(ctx, userID, 0, 0, joinMark(cellID), "1"); err != nil {
		return fmt.Errorf("storage: mark user %d waiting for cell %d: %w", userID, cellID, err)
	}
	return nil
}

// clearJoinPending is markJoinPending undone: the request was settled.
func (s *Store) clearJoinPending(ctx context.Context, userID, cellID int64) error {
	if _, err := s.touchUser(ctx, userID, 0, 0, joinMark(cellID), ""); err != nil {
		return fmt.Errorf("storage: user %d no longer waiting for cell %d: %w", userID, cellID, err)
	}
	return nil
}

// UserCell returns the cell a user's private commands act on: the one last
// joined, 0 when the user is in none.
func (s *Store) UserCell(ctx context.Context, userID int64) (int64, error) {
	id, err := s.rdb.HGet(ctx, s.keys.User(userID), "cell").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: cell of user %d: %w", userID, err)
	}
	return id, nil
}

// Dialogue is where a user is in a multi-step exchange with the bot.
type Dialogue struct {
	Kind   string            `json:"kind"`
	CellID int64             `json:"cell"`
	Data   map[string]string `json:"data,omitempty"`
}

// SetDialogue stores a user's dialogue; it expires after ttl.
func (s *Store) SetDialogue(ctx context.Context, userID int64, d Dialogue, ttl time.Duration) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("storage: encode dialogue: %w", err)
	}
	if err := s.rdb.Set(ctx, s.keys.Dialogue(userID), b, ttl).Err(); err != nil {
		return fmt.Errorf("storage: set dialogue of user %d: %w", userID, err)
	}
	return nil
}

// DialogueOf returns a user's dialogue; ErrNotFound when there is none.
func (s *Store) DialogueOf(ctx context.Context, userID int64) (Dialogue, error) {
	v, err := s.rdb.Get(ctx, s.keys.Dialogue(userID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Dialogue{}, ErrNotFound
	}
	if err != nil {
		return Dialogue{}, fmt.Errorf("storage: dialogue of user %d: %w", userID, err)
	}
	var d Dialogue
	if err := json.Unmarshal(v, &d); err != nil {
		return Dialogue{}, fmt.Errorf("storage: decode dialogue: %w", err)
	}
	return d, nil
}

// ClearDialogue ends a user's dialogue and reports whether there was one.
func (s *Store) ClearDialogue(ctx context.Context, userID int64) (bool, error) {
	n, err := s.rdb.Del(ctx, s.keys.Dialogue(userID)).Result()
	if err != nil {
		return false, fmt.Errorf("storage: clear dialogue of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// UserLangs returns each user's language: the one they chose with /lang, else
// their Telegram's when it is one the bot speaks and not the default (see
// UpdateStart.TelegramLang), else ""; in one round trip.
func (s *Store) UserLangs(ctx context.Context, userIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	cmds := make([]*redis.SliceCmd, len(userIDs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range userIDs {
			cmds[i] = p.HMGet(ctx, s.keys.User(id), "lang", "tglang")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("storage: languages of %d users: %w", len(userIDs), err)
	}
	for i, c := range cmds {
		vs, err := c.Result()
		if err != nil {
			continue
		}
		for _, v := range vs {
			if l, ok := v.(string); ok && l != "" {
				out[userIDs[i]] = l
				break
			}
		}
	}
	return out, nil
}

// UserCells returns every cell a user belongs to.
func (s *Store) UserCells(ctx context.Context, userID int64) ([]int64, error) {
	vs, err := s.rdb.SMembers(ctx, s.keys.UserCells(userID)).Result()
	if err != nil {
		return nil, fmt.Errorf("storage: cells of user %d: %w", userID, err)
	}
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		id, _ := strconv.ParseInt(v, 10, 64)
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// pickUserCellScript makes one of the user's cells the one their private
// commands act on.
//
// KEYS[1] user HASH, KEYS[2] user's cells SET; ARGV[1] cell id
// Returns 1, or 0 when the user does not belong to that cell.
var pickUserCellScript = newScript(`
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'cell', ARGV[1])
return 1
`)

// PickUserCell makes cellID the cell the user's private commands act on:
// ErrNotFound when the user does not belong to it.
func (s *Store) PickUserCell(ctx context.Context, userID, cellID int64) error {
	n, err := pickUserCellScript.Run(ctx, s.rdb, []string{s.keys.User(userID), s.keys.UserCells(userID)}, cellID).Int()
	if err != nil {
		return fmt.Errorf("storage: pick cell %d for user %d: %w", cellID, userID, err)
	}
	if n == 0 {
		return fmt.Errorf("storage: pick cell %d for user %d: %w", cellID, userID, ErrNotFound)
	}
	return nil
}
