package redis

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// getBatcher coalesces concurrent Gets into one MGET per round trip: under load, many
// readers share one request to Redis instead of paying a round trip each.
type getBatcher struct {
	rdb  redis.UniversalClient
	reqs chan *getReq
	once sync.Once
}

type getReq struct {
	ctx  context.Context
	key  string
	doc  []byte
	ok   bool
	err  error
	done chan struct{}
}

var reqPool = sync.Pool{New: func() any { return &getReq{done: make(chan struct{}, 1)} }}

const (
	batchLoops = 4   // round trips in flight at once
	maxBatch   = 256 // keys per MGET
)

func (b *getBatcher) get(ctx context.Context, key string) ([]byte, bool, error) {
	b.once.Do(func() {
		b.reqs = make(chan *getReq, 4096)
		for i := 0; i < batchLoops; i++ {
			go b.loop()
		}
	})
	r := reqPool.Get().(*getReq)
	r.ctx, r.key = ctx, key
	b.reqs <- r
	select {
	case <-r.done:
	case <-ctx.Done():
		// the loop still owns r: it is dropped, not pooled
		return nil, false, ctx.Err()
	}
	doc, ok, err := r.doc, r.ok, r.err
	r.ctx, r.doc, r.ok, r.err = nil, nil, false, nil
	reqPool.Put(r)
	return doc, ok, err
}

func (b *getBatcher) loop() {
	batch := make([]*getReq, 0, maxBatch)
	keys := make([]string, 0, maxBatch)
	for first := range b.reqs {
		batch, keys = append(batch[:0], first), append(keys[:0], first.key)
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch, keys = append(batch, r), append(keys, r.key)
			default:
				break fill
			}
		}
		vals, err := b.rdb.MGet(first.ctx, keys...).Result()
		for i, r := range batch {
			switch {
			case err != nil:
				r.err = err
			case vals[i] != nil:
				if s, isString := vals[i].(string); isString {
					r.doc, r.ok = []byte(s), true
				}
			}
			r.done <- struct{}{}
		}
	}
}
