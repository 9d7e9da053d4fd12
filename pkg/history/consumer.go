package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstream"
)

// ConsumerName is the durable JetStream consumer of the history writer.
const ConsumerName = "history_writer"

// maxBatch is the most events fetched at once and stored in one transaction.
const maxBatch = 1000

// commitEvery is the least time between two batches while events keep coming, unless
// a batch is full. A batch costs about half a millisecond of CPU whatever its size (the
// pull, the transaction, the WAL's fsync, the acknowledgement), so under load the events
// of this long share one, and an event waits at most this long for it. After a quiet
// spell an event is stored at once.
const commitEvery = 20 * time.Millisecond

// retryDelay is the pause before the consumer is made again after a failure.
const retryDelay = 250 * time.Millisecond

// loop copies until ctx is done, making the consumer again after each failure.
func (c *copier) loop(ctx context.Context) {
	for {
		err := c.run(ctx)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("history consumer stopped; resuming after the last event stored", "next_seq", c.next, "err", err)
		if errors.Is(err, errGap) || errors.Is(err, errReconnected) {
			continue // nothing is wrong with NATS: resume at once
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryDelay):
		}
	}
}

// copier copies the stream in stream sequence order. The consumer acknowledges all
// (AckAll): acknowledging a message acknowledges every one before it, so a message
// delivered but never received (a pull answered on a connection that then broke, or
// after the fetch stopped waiting) would be acknowledged unstored by the next batch.
// So the copier tracks the stream sequence it expects next and checks every message
// against it; on a gap, a reconnection or any error it makes the consumer again, to
// deliver from that sequence.
//
// JetStream numbers every message it stores, one after the other; a message dropped as
// a duplicate (Nats-Msg-Id) gets no number. The stream has no filter on this consumer,
// so sequences delivered in order have no gap unless messages were deleted (purge,
// limits, delete): a new consumer's first message may be past the expected sequence
// for that reason only, and is taken as the next.
type copier struct {
	domain  string      // its JetStream domain ("": that of nc's server)
	copying atomic.Bool // its consumer has been made once (Copy.Ready)
	js      jetstream.JetStream
	nc      *nats.Conn
	store   *Store
	log     *slog.Logger
	next    uint64    // stream sequence of the next message to store: everything before is stored
	created time.Time // when the stream numbered by next was created
	events  []event.Envelope
}

var (
	// errGap ends a run: a message was delivered past the one expected.
	errGap = errors.New("a message was delivered but not received")
	// errReconnected ends a run: a pull answered while the connection was down is lost.
	errReconnected = errors.New("reconnected to NATS")
)

// run makes the consumer and copies until ctx is done or anything fails.
func (c *copier) run(ctx context.Context) error {
	reconnected := c.nc.StatusChanged(nats.CONNECTED)
	defer c.nc.RemoveStatusListener(reconnected)
	cons, err := c.resume(ctx)
	if err != nil {
		return err
	}
	f := fetcher{cons: cons, reconnected: reconnected, batch: make([]jetstream.Msg, 0, maxBatch)}
	for first := true; ; first = false {
		batch, err := f.next(ctx)
		if err != nil {
			return err
		}
		if err := c.copyBatch(ctx, batch, first); err != nil {
			return err
		}
	}
}

// resume deletes and creates the durable consumer so that it delivers from c.next or,
// at start-up, from after its acknowledgement floor. A history writer that died
// (SIGKILL) between a fetch and its acknowledgement leaves messages pending on the
// consumer; continuing from the consumer's delivery pointer would fetch past them.
// Redelivered events already stored are skipped by event id.
func (c *copier) resume(ctx context.Context) (jetstream.Consumer, error) {
	if err := eventstream.Ensure(ctx, c.js); err != nil {
		return nil, err
	}
	str, err := c.js.Stream(ctx, event.StreamName)
	if err != nil {
		return nil, err
	}
	info := str.CachedInfo()
	if !info.Created.Equal(c.created) { // start-up, or a new stream numbering from 1
		c.next, c.created = 0, info.Created
	}
	if c.next == 0 {
		old, err := str.Consumer(ctx, ConsumerName)
		switch {
		case errors.Is(err, jetstream.ErrConsumerNotFound):
			c.next = 1
		case err != nil:
			return nil, err
		default:
			c.next = old.CachedInfo().AckFloor.Stream + 1
		}
	}
	if last := info.State.LastSeq; c.next > last+1 {
		c.next = last + 1 // the stream lost its tail (a broker that lost unsynced writes): those numbers come again
	}
	if err := str.DeleteConsumer(ctx, ConsumerName); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	cons, err := str.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 20000,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   c.next,
	})
	if err == nil {
		c.copying.Store(true)
		c.log.Info("history: copying the events stream", "next_seq", c.next)
	}
	return cons, err
}

// copyBatch stores the messages of batch that follow c.next, in one transaction, then
// acknowledges them. Messages before c.next (delivered again) are skipped. A message
// past c.next ends the batch with errGap, after the ones before it are stored; first
// says batch is a new consumer's first, whose first message may be past c.next.
func (c *copier) copyBatch(ctx context.Context, batch []jetstream.Msg, first bool) error {
	next, events := c.next, c.events[:0]
	var ack jetstream.Msg // the message with the highest sequence handled
	var ackSeq uint64
	var gap error
	for i, m := range batch {
		meta, err := m.Metadata()
		if err != nil {
			gap = err
			break
		}
		seq := meta.Sequence.Stream
		if seq > next && !(first && i == 0) {
			gap = fmt.Errorf("%w: stream sequence %d delivered, %d expected", errGap, seq, next)
			break
		}
		if seq >= ackSeq {
			ack, ackSeq = m, seq
		}
		if seq < next {
			continue // delivered again; stored already
		}
		next = seq + 1
		e, err := event.Decode(m.Data(), nil)
		if err != nil {
			c.log.Error("history: dropping a message that is not an event", "subject", m.Subject(), "stream_seq", seq, "err", err)
			continue
		}
		if err := c.store.up.Upcast(&e); err != nil { // e is left as it came
			c.log.Warn("history: storing an event in the version it came in", "stream_seq", seq, "err", err)
		}
		events = append(events, e)
	}
	c.events = events[:0]
	if len(events) > 0 && !c.append(ctx, events) {
		return ctx.Err()
	}
	c.next = next
	if ack != nil {
		if err := ack.Ack(); err != nil { // AckAll: acknowledges everything up to ack
			return err
		}
	}
	return gap
}

// append stores events, retrying until it succeeds (fetching past them would reorder
// the history) or ctx is done (false).
func (c *copier) append(ctx context.Context, events []event.Envelope) bool {
	for {
		_, err := c.store.Append(ctx, events)
		if err == nil {
			return true
		}
		c.log.Warn("history append failed; retrying", "events", len(events), "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
}
