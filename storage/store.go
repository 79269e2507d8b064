// Package storage owns all of cellbot's state in Redis: key names (keys.go), the
// Lua scripts that change several keys at once, each above the method that runs
// it, and the sentinel errors those methods return.
package storage

import (
	"errors"

	"github.com/redis/go-redis/v9"
)

// Store is cellbot's Redis state.
type Store struct {
	rdb  redis.UniversalClient
	keys Keys
	// cluster is set on a Redis Cluster, where the commands of one pipeline
	// go to several masters at once and their order is not kept.
	cluster bool
}

// New returns a Store on rdb with keys under prefix ("cellbot" when empty).
func New(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "cellbot"
	}
	_, cluster := rdb.(*redis.ClusterClient)
	return &Store{rdb: rdb, keys: NewKeys(prefix), cluster: cluster}
}

// Keys exposes the key names, for tests that seed or read raw keys.
func (s *Store) Keys() Keys { return s.keys }

// Sentinel errors.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyBound  = errors.New("group already bound to a cell")
	ErrDuplicateName = errors.New("a member with that name exists")
	ErrNotPending    = errors.New("no pending request")
)
