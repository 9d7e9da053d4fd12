package redis

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// EventsAfter returns up to limit events of the entity under key with version > after,
// oldest first: what a live subscriber (C8) reads before it takes live events.
func (p *Projection) EventsAfter(ctx context.Context, key string, after int64, limit int) ([]string, error) {
	return p.rdb.ZRangeByScore(ctx, EventsKey(key), &redis.ZRangeBy{Min: "(" + strconv.FormatInt(after, 10), Max: "+inf", Count: int64(limit)}).Result()
}
