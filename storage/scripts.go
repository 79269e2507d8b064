package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// scriptSources lists the text of every Lua script of the package, for
// LoadScripts. It is filled while the package's variables are initialised and
// never changed after.
var scriptSources []string

// newScript declares one of the package's Lua scripts.
func newScript(src string) *redis.Script {
	scriptSources = append(scriptSources, src)
	return redis.NewScript(src)
}

// LoadScripts loads every script into Redis (into every master of a Cluster),
// so that the first commands after a start run them by their SHA1 instead of
// each sending the script's text after a NOSCRIPT. Scripts Redis forgets later
// (a restart, SCRIPT FLUSH) are sent again when next run.
func (s *Store) LoadScripts(ctx context.Context) error {
	// Not Script.Load: in a pipeline it takes the reply not yet read, "", for
	// the script's hash, and every later run of it would miss.
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, src := range scriptSources {
			p.ScriptLoad(ctx, src)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: load scripts: %w", err)
	}
	return nil
}

// pipe queues commands, scripts among them, to be sent in one round trip.
type pipe struct {
	redis.Pipeliner
	evals []queuedEval
}

type queuedEval struct {
	cmd    *redis.Cmd
	script *redis.Script
	keys   []string
	args   []any
}

// eval queues a script by its SHA1.
func (p *pipe) eval(ctx context.Context, sc *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd := sc.EvalSha(ctx, p.Pipeliner, keys, args...)
	p.evals = append(p.evals, queuedEval{cmd, sc, keys, args})
	return cmd
}

// pipelined sends fn's commands in one round trip. A script Redis did not know
// (NOSCRIPT: nothing of it ran) is then run on its own with its text, and its
// command takes that result. The commands of one pipeline must not depend on
// each other's order: in a Cluster they go to their slots' masters anyway.
//
// The error is the first failed command's, as with Pipelined; redis.Nil
// replies are left to each command.
func (s *Store) pipelined(ctx context.Context, fn func(p *pipe)) error {
	p := &pipe{Pipeliner: s.rdb.Pipeline()}
	fn(p)
	cmds, err := p.Exec(ctx)
	if err == nil {
		return nil
	}
	for _, e := range p.evals {
		if e.cmd.Err() == nil || !strings.HasPrefix(e.cmd.Err().Error(), "NOSCRIPT") {
			continue
		}
		res := e.script.Eval(ctx, s.rdb, e.keys, e.args...)
		e.cmd.SetVal(res.Val())
		e.cmd.SetErr(res.Err())
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}
