package redis

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/failure"
)

// getBatcher coalesces concurrent Gets into one MGET per round trip: under load, many
// readers share one request to Redis instead of paying a round trip each. A batch runs
// under its own context (bounded by batchTimeout, ended by close), never a caller's, so a
// caller that hangs up fails no one else's read; each caller waits only as long as its
// own context allows.
type getBatcher struct {
	rdb   redis.UniversalClient
	loops int
	reqs  chan *getReq

	mu      sync.Mutex
	started bool
	closed  bool
	life    context.Context // ended by close: stops the loops and the MGETs in flight
	end     context.CancelFunc
	wg      sync.WaitGroup
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
	batchLoops   = 4               // round trips in flight at once
	maxBatch     = 256             // keys per MGET
	queueSize    = 4096            // Gets waiting for a loop at most
	batchTimeout = 2 * time.Second // an MGET's deadline, whoever waits for it
)

// errClosed is the failure of a Get after Close.
var errClosed = failure.New(failure.Unavailable, "read_model_closed", "the read model is closed")

func newGetBatcher(rdb redis.UniversalClient, loops, queue int) *getBatcher {
	life, end := context.WithCancel(context.Background())
	return &getBatcher{rdb: rdb, loops: loops, reqs: make(chan *getReq, queue), life: life, end: end}
}

// start starts the loops on first use (a writer's projection never reads), false once closed.
func (b *getBatcher) start() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	if !b.started {
		b.started = true
		b.wg.Add(b.loops)
		for i := 0; i < b.loops; i++ {
			go b.loop()
		}
	}
	return true
}

// close stops the loops and waits for them; Gets waiting fail with errClosed.
func (b *getBatcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.end()
	b.wg.Wait()
}

func (b *getBatcher) get(ctx context.Context, key string) ([]byte, bool, error) {
	if !b.start() {
		return nil, false, errClosed
	}
	return b.do(ctx, key)
}

// do queues the Get of key and waits for its batch, as long as ctx allows.
func (b *getBatcher) do(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	r := reqPool.Get().(*getReq)
	r.ctx, r.key = ctx, key
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		reqPool.Put(r)
		return nil, false, ctx.Err()
	case <-b.life.Done():
		reqPool.Put(r)
		return nil, false, errClosed
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		// the loop still owns r: it is dropped, not pooled
		return nil, false, ctx.Err()
	case <-b.life.Done():
		return nil, false, errClosed
	}
	doc, ok, err := r.doc, r.ok, r.err
	r.ctx, r.doc, r.ok, r.err = nil, nil, false, nil
	reqPool.Put(r)
	return doc, ok, err
}

func (b *getBatcher) loop() {
	defer b.wg.Done()
	batch := make([]*getReq, 0, maxBatch)
	keys := make([]string, 0, maxBatch)
	for {
		batch, keys = batch[:0], keys[:0]
		select {
		case <-b.life.Done():
			return
		case r := <-b.reqs:
			batch, keys = b.add(batch, keys, r)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch, keys = b.add(batch, keys, r)
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			b.mget(batch, keys)
		}
	}
}

// add adds r to the batch unless its caller has stopped waiting (the caller returned
// already, and nobody reads r again).
func (b *getBatcher) add(batch []*getReq, keys []string, r *getReq) ([]*getReq, []string) {
	if r.ctx.Err() != nil {
		return batch, keys
	}
	return append(batch, r), append(keys, r.key)
}

func (b *getBatcher) mget(batch []*getReq, keys []string) {
	ctx, cancel := context.WithTimeout(b.life, batchTimeout)
	vals, err := b.rdb.MGet(ctx, keys...).Result()
	cancel()
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
