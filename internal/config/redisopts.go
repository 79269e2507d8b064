package config

import (
	"slices"

	"github.com/redis/go-redis/v9"
)

// redisTarget is a parsed REDIS_URL: the options of exactly one of go-redis's
// clients, as its own URL parsers filled them in (timeouts, pool sizes, TLS,
// credentials), so that no setting is lost in a conversion.
type redisTarget struct {
	single   *redis.Options         // redis:// or rediss://: one server
	failover *redis.FailoverOptions // master_name=: Sentinel
	cluster  *redis.ClusterOptions  // several addresses: a Cluster
}

// newClient builds the client the target calls for. It does not connect: go-redis
// dials on the first command. Each call gets copies of the options, since the
// constructors fill in defaults in place.
func (t *redisTarget) newClient() redis.UniversalClient {
	switch {
	case t.failover != nil:
		o := *t.failover
		o.SentinelAddrs = slices.Clone(o.SentinelAddrs)
		return redis.NewFailoverClient(&o)
	case t.cluster != nil:
		o := *t.cluster
		o.Addrs = slices.Clone(o.Addrs)
		return redis.NewClusterClient(&o)
	default:
		o := *t.single
		return redis.NewClient(&o)
	}
}
