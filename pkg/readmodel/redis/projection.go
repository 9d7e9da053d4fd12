// Package redis is the read model in Redis: per entity, its state document under
// "<domain>.<id>" (never overwritten by an older version) and its events in a sorted set
// "<domain>.<id>.events" scored by version.
package redis

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// apply applies the updates of many entities in one call. For each it adds the events
// (idempotent: same member, same score) and sets the state document only if its version
// is newer than the stored one. Where no document is stored (Redis lost it), it is set
// only if the events set is known to be complete: the update says so (a restore) or its
// events start at version 1. Otherwise the document stays missing, so the next read
// restores the entity from the log.
// KEYS: per update its state key and events key. ARGV: per update its version, document
// (” for events only), '1' if the events set is complete, the number of events n, then
// n pairs of (version, event JSON).
var apply = redis.NewScript(`
local a = 1
for k = 1, #KEYS, 2 do
  local version, doc, complete, n = ARGV[a], ARGV[a+1], ARGV[a+2], tonumber(ARGV[a+3])
  local first = nil
  if n > 0 then first = ARGV[a+4] end
  local i = a + 4
  local stop = a + 3 + 2 * n
  while i <= stop do
    local j = math.min(i + 999, stop)
    redis.call('ZADD', KEYS[k+1], unpack(ARGV, i, j))
    i = j + 1
  end
  a = stop + 1
  if doc ~= '' then
    local cur = redis.call('GET', KEYS[k])
    local set = true
    if cur then
      local v = tonumber(string.match(cur, '"version":(%d+)'))
      if v and v >= tonumber(version) then set = false end
    elseif complete ~= '1' and first ~= '1' then
      set = false
    end
    if set then redis.call('SET', KEYS[k], doc) end
  end
end
return 0
`)

// Limits of one script call, so that Redis, which runs a script to its end before
// serving anyone else, is never held long by one batch.
const (
	scriptMaxUpdates = 128
	scriptMaxEvents  = 2048
)

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

// New returns a projection over rdb. Close it to stop its readers' goroutines.
func New(rdb redis.UniversalClient) *Projection {
	return &Projection{rdb: rdb, gets: newGetBatcher(rdb, batchLoops, queueSize)}
}

// Close stops the goroutines that batch Gets and waits for them: Gets waiting fail, later
// ones too. It does not close rdb.
func (p *Projection) Close() { p.gets.close() }

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
		for len(updates) > 0 {
			n, events := 0, 0
			for n < len(updates) && n < scriptMaxUpdates && (n == 0 || events+len(updates[n].Events) <= scriptMaxEvents) {
				events += len(updates[n].Events)
				n++
			}
			keys, args := scriptArgs(updates[:n], events)
			apply.EvalSha(ctx, pipe, keys, args...)
			updates = updates[n:]
		}
		return nil
	})
	return err
}

// scriptArgs lays out updates (holding events events in all) as the apply script reads them.
func scriptArgs(updates []Update, events int) ([]string, []any) {
	keys := make([]string, 0, 2*len(updates))
	args := make([]any, 0, 4*len(updates)+2*events)
	for _, u := range updates {
		version := u.Version
		if len(u.Doc) == 0 {
			version = 0 // never wins: only events are added
		}
		complete := "0"
		if u.Complete {
			complete = "1"
		}
		keys = append(keys, u.Key, EventsKey(u.Key))
		args = append(args, version, u.Doc, complete, len(u.Events))
		for _, e := range u.Events {
			args = append(args, e.Version, e.JSON)
		}
	}
	return keys, args
}

// Get returns the state document under key; ok is false on a miss. Concurrent Gets
// share round trips to Redis (one MGET for all the keys waiting), each under the batch's
// own deadline: Get returns ctx's error as soon as ctx ends, without failing the others.
// After Close it fails with an unavailable failure.
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

// IsNoScript reports whether err is Redis's NOSCRIPT error (its script cache was lost: a
// restart), by the error code a Redis error reply starts with, never in another error.
func IsNoScript(err error) bool { return redis.HasErrorPrefix(err, "NOSCRIPT") }
