package redis

import "context"

// Batcher exposes the Get batcher to tests.
type Batcher struct{ b *getBatcher }

// NewBatcher returns a batcher of loops loops; none runs before Start.
func NewBatcher(p *Projection, loops int) Batcher {
	return Batcher{newGetBatcher(p.rdb, loops, 64)}
}

// Start starts the loops.
func (t Batcher) Start() { t.b.start() }

// Get is a Get that does not start the loops.
func (t Batcher) Get(ctx context.Context, key string) ([]byte, bool, error) { return t.b.do(ctx, key) }

// Queued returns how many Gets wait for a loop.
func (t Batcher) Queued() int { return len(t.b.reqs) }

// Close stops the loops.
func (t Batcher) Close() { t.b.close() }
