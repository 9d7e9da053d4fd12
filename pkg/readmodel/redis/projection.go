// Package redis is the read model in Redis: per entity, its state document under
// "<domain>.<id>" (never overwritten by an older version) and its events in a sorted set
// "<domain>.<id>.events" scored by version.
package redis

import (
	"context"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// apply adds the events (idempotent: same member, same score) and sets the state
// document only if its version is newer than the stored one. Where no document is stored
// (Redis lost it), it is set only if the events set is known to be complete: the update
// says so (a restore) or its events start at version 1. Otherwise the document stays
// missing, so the next read restores the entity from the log.
// KEYS[1] state key, KEYS[2] events key; ARGV[1] version, ARGV[2] document (” for
// events only), ARGV[3] '1' if the events set is complete, ARGV[4..] pairs of (version,
// event JSON).
var apply = redis.NewScript(`
for i = 4, #ARGV, 2 do
  redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i+1])
end
if ARGV[2] == '' then return 0 end
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '"version":(%d+)'))
  if v and v >= tonumber(ARGV[1]) then return 0 end
elseif ARGV[3] ~= '1' and ARGV[4] ~= '1' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`)

// Entry is one event for the events set.
type Entry struct {
	Version int64
	JSON    []byte
}

// Update is the new read model of one entity.
type Update struct {
	Key     string // the state key, "<domain>.<id>"
	Version int64
	Doc     []byte // the state document; empty to only add events
	Events  []Entry
	// Complete says the events set holds every event up to Version (a restore from the
	// log), so the document may be set even where Redis lost it.
	Complete bool
}

// Projection writes and reads the read model. Safe for concurrent use.
type Projection struct {
	rdb  redis.UniversalClient
	gets *getBatcher
}

// New returns a projection over rdb.
func New(rdb redis.UniversalClient) *Projection {
	return &Projection{rdb: rdb, gets: &getBatcher{rdb: rdb}}
}

// EventsKey returns the key of the events set of the entity whose state key is key.
func EventsKey(key string) string { return key + ".events" }

// Apply writes updates in one pipeline. A document never replaces a newer one.
func (p *Projection) Apply(ctx context.Context, updates []Update) error {
	if len(updates) == 0 {
		return nil
	}
	err := p.pipeline(ctx, updates)
	if IsNoScript(err) { // Redis restarted and lost its script cache
		if err := apply.Load(ctx, p.rdb).Err(); err != nil {
			return err
		}
		err = p.pipeline(ctx, updates)
	}
	return err
}

func (p *Projection) pipeline(ctx context.Context, updates []Update) error {
	_, err := p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, u := range updates {
			args := make([]any, 0, 2+2*len(u.Events))
			doc := u.Doc
			version := u.Version
			if len(doc) == 0 {
				version = 0 // never wins: only events are added
			}
			complete := "0"
			if u.Complete {
				complete = "1"
			}
			args = append(args, version, doc, complete)
			for _, e := range u.Events {
				args = append(args, e.Version, e.JSON)
			}
			apply.EvalSha(ctx, pipe, []string{u.Key, EventsKey(u.Key)}, args...)
		}
		return nil
	})
	return err
}

// Get returns the state document under key; ok is false on a miss. Concurrent Gets
// share round trips to Redis (one MGET for all the keys waiting).
func (p *Projection) Get(ctx context.Context, key string) (doc []byte, ok bool, err error) {
	return p.gets.get(ctx, key)
}

// Events returns up to limit events of the entity under key with version < before
// (before <= 0: from the newest), newest first.
func (p *Projection) Events(ctx context.Context, key string, before int64, limit int) ([]string, error) {
	max := "+inf"
	if before > 0 {
		max = "(" + strconv.FormatInt(before, 10)
	}
	return p.rdb.ZRevRangeByScore(ctx, EventsKey(key), &redis.ZRangeBy{Min: "-inf", Max: max, Count: int64(limit)}).Result()
}

// Ping checks that Redis answers.
func (p *Projection) Ping(ctx context.Context) error { return p.rdb.Ping(ctx).Err() }

// IsNoScript reports whether err says the script cache was lost (a Redis restart).
func IsNoScript(err error) bool { return err != nil && strings.Contains(err.Error(), "NOSCRIPT") }
