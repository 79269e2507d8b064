package storage

import (
	"context"
	"errors"
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
var actorScript = redis.NewScript(`
local c = redis.call('HGETALL', KEYS[1])
if #c == 0 then return {c, false} end
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return {c, false} end
return {c, redis.call('HGET', KEYS[3], id)}
`)

// LoadActor reads a sender's language, cell and member record in two round trips:
// the user's own keys (and the group's binding), then one script over the cell's.
// groupChatID is the group the update came from, 0 in a private chat.
func (s *Store) LoadActor(ctx context.Context, userID, groupChatID int64) (Actor, error) {
	var user *redis.SliceCmd
	var chat *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		user = p.HMGet(ctx, s.keys.User(userID), "lang", "cell")
		if groupChatID != 0 {
			chat = p.Get(ctx, s.keys.ChatCell(groupChatID))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Actor{}, fmt.Errorf("storage: load user %d: %w", userID, err)
	}
	var a Actor
	vals := user.Val()
	if len(vals) == 2 {
		a.Lang, _ = vals[0].(string)
	}
	var cellID int64
	if groupChatID != 0 {
		cellID, _ = strconv.ParseInt(chat.Val(), 10, 64)
	} else if len(vals) == 2 {
		if v, ok := vals[1].(string); ok {
			cellID, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if cellID == 0 {
		return a, nil
	}
	res, err := actorScript.Run(ctx, s.rdb, []string{s.keys.Cell(cellID), s.keys.Users(cellID), s.keys.Members(cellID)}, userID).Slice()
	if err != nil {
		return Actor{}, fmt.Errorf("storage: load user %d in cell %d: %w", userID, cellID, err)
	}
	flat, _ := res[0].([]any)
	if len(flat) == 0 {
		return a, nil
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
			return Actor{}, err
		}
		a.Member = &m
	}
	return a, nil
}
