package redis

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"uneventful.dev/uneventful/pkg/event"
)

// MarkerKey is the key a writer of domain sets once it has checked the read model of
// every entity. Redis without it has lost its data (FLUSHALL, a restart without
// persistence) or was never filled. ':' never appears in an entity id.
func MarkerKey(domain string) string { return domain + ":readmodel" }

// Marked reports whether key exists.
func (p *Projection) Marked(ctx context.Context, key string) (bool, error) {
	n, err := p.rdb.Exists(ctx, key).Result()
	return n == 1, err
}

// Mark sets key to the current time.
func (p *Projection) Mark(ctx context.Context, key string) error {
	return p.rdb.Set(ctx, key, time.Now().UTC().Format(time.RFC3339Nano), 0).Err()
}

// Versions returns the version of the state document under each key (0 where there is
// none), in one round trip.
func (p *Projection) Versions(ctx context.Context, keys []string) ([]int64, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	vals, err := p.rdb.MGet(ctx, keys...).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]int64, len(keys))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = event.DocVersion(s)
		}
	}
	return out, nil
}
