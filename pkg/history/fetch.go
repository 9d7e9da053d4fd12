package history

// Fetching a consumer's messages in batches, for the copier.

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fetcher takes batches from a consumer. Under load it fetches every commitEvery what
// the stream holds by then, which JetStream sends at once; with nothing to fetch it
// waits for the next message. A pull kept waiting all the time would have each message
// sent, and woken for, alone.
type fetcher struct {
	cons        jetstream.Consumer
	reconnected <-chan nats.Status
	batch       []jetstream.Msg
	last        time.Time // when the last batch was taken
}

// next returns the next batch, after the pause that keeps batches commitEvery apart
// unless the last one was full.
func (f *fetcher) next(ctx context.Context) ([]jetstream.Msg, error) {
	if len(f.batch) < maxBatch && !f.pause(ctx) {
		return nil, ctx.Err()
	}
	batch, err := f.fetchNoWait(ctx, f.batch[:0])
	if len(batch) == 0 && err == nil {
		wait, ferr := f.cons.Fetch(1, jetstream.FetchMaxWait(30*time.Second)) // heartbeats every 5 s
		if ferr != nil {
			return nil, ferr
		}
		if batch, err = f.take(ctx, wait, batch); len(batch) > 0 && err == nil && f.pause(ctx) {
			batch, err = f.fetchNoWait(ctx, batch) // those that came with it
		}
	}
	if err != nil {
		return nil, err // the batch may lack messages: fetch it again
	}
	f.batch, f.last = batch, time.Now()
	return batch, nil
}

// pause waits until commitEvery after the last batch; false if ctx ended it.
func (f *fetcher) pause(ctx context.Context) bool {
	wait := commitEvery - time.Since(f.last)
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fetchNoWait appends to batch what the stream holds now, up to maxBatch in all.
func (f *fetcher) fetchNoWait(ctx context.Context, batch []jetstream.Msg) ([]jetstream.Msg, error) {
	if len(batch) >= maxBatch {
		return batch, nil
	}
	b, err := f.cons.FetchNoWait(maxBatch - len(batch))
	if err != nil {
		return batch, err
	}
	return f.take(ctx, b, batch)
}

// take appends the messages of b to batch; a reconnection to NATS ends it (an answer
// to the pull may be lost).
func (f *fetcher) take(ctx context.Context, b jetstream.MessageBatch, batch []jetstream.Msg) ([]jetstream.Msg, error) {
	msgs := b.Messages()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return batch, b.Error()
			}
			batch = append(batch, m)
		case <-f.reconnected:
			return batch, errReconnected
		case <-ctx.Done():
			return batch, ctx.Err()
		}
	}
}
