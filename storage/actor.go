package storage

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
)

// Actor is what the bot knows of an update's sender before handling it: the
// language they chose ("" when none), the cell the update acts on (the group's,
// or the user's current cell in a private chat; nil when none) and their member
// record in it (nil when they are not a member).
type Actor struct {
	Lang   string
	Cell   *cell.Cell
	Member *cell.Member
}

// actorScript reads a cell and one user's member record in it.
//
// KEYS[1] cell HASH, KEYS[2] users HASH, KEYS[3] members HASH; ARGV[1] user id
// Returns {cell fields as a flat list, member JSON or false}.
var actorScript = newScript(`
local c = redis.call('HGETALL', KEYS[1])
if #c == 0 then return {c, false} end
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return {c, false} end
return {c, redis.call('HGET', KEYS[3], id)}
`)

// actorKeys are the keys actorScript reads of a cell.
func (s *Store) actorKeys(cellID int64) []string {
	return []string{s.keys.Cell(cellID), s.keys.Users(cellID), s.keys.Members(cellID)}
}

// userCell reads the sender's language and the cell the update acts on from the
// user's own keys (HMGET lang cell) and, in a group, the group's binding.
func userCell(user *redis.SliceCmd, chat *redis.StringCmd) (lang string, cellID int64) {
	vals := user.Val()
	if len(vals) >= 2 {
		lang, _ = vals[0].(string)
	}
	if chat != nil {
		cellID, _ = strconv.ParseInt(chat.Val(), 10, 64)
	} else if len(vals) >= 2 {
		if v, ok := vals[1].(string); ok {
			cellID, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return lang, cellID
}

// telegramLangChanged reports whether an update's Telegram language (see
// UpdateStart.TelegramLang) differs from the one kept in the user's hash, read
// as its third field.
func telegramLangChanged(user *redis.SliceCmd, lang string) bool {
	if lang == "" {
		return false
	}
	var kept string
	if vals := user.Val(); len(vals) == 3 {
		kept, _ = vals[2].(string)
	}
	if lang == NoTelegramLang {
		return kept != ""
	}
	return kept != lang
}

// actorIn runs actorScript on its own.
func (s *Store) actorIn(ctx context.Context, a *Actor, cellID, userID int64) error {
	res, err := actorScript.Run(ctx, s.rdb, s.actorKeys(cellID), userID).Slice()
	if err != nil {
		return fmt.Errorf("storage: load user %d in cell %d: %w", userID, cellID, err)
	}
	return a.fill(cellID, res)
}

// fill sets the actor's cell and member from actorScript's reply.
func (a *Actor) fill(cellID int64, res []any) error {
	if len(res) != 2 {
		return fmt.Errorf("storage: load cell %d: unexpected reply %v", cellID, res)
	}
	flat, _ := res[0].([]any)
	if len(flat) == 0 {
		return nil
	}
	h := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		h[k] = v
	}
	c := decodeCell(cellID, h)
	a.Cell = &c
	if data, ok := res[1].(string); ok {
		m, err := decodeMember(data)
		if err != nil {
			return err
		}
		a.Member = &m
	}
	return nil
}
