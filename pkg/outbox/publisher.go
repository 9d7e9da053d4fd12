// Package outbox publishes committed events to JetStream. The event log is the outbox:
// every accepted row's events are published, in log order, each with its event id as
// the JetStream message id (so a resend after a crash is deduplicated), and a cursor
// records how far publishing got.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/eventstream"
	"uneventful.dev/uneventful/pkg/failure"
)

// Publisher publishes the events of a store's log. Committed and Published are safe for
// concurrent use; Run must be called once.
//
// Events usually come straight from memory: the writer hands each committed batch over
// (Committed). Whenever that hand-over does not reach back to the cursor (at start-up,
// after JetStream was away long enough for the queue to overflow), the publisher reads the
// log instead until it has caught up.
type Publisher struct {
	store     *sqlite.Store
	js        jetstream.JetStream
	log       *slog.Logger
	notify    chan struct{}
	published atomic.Int64
	logReads  atomic.Int64 // how often next read the log
	running   atomic.Bool  // Run read its cursor and has not returned
	batch     int

	mu         sync.Mutex
	queue      []Message // events of rows in (coverFrom, coverTo], in order
	coverFrom  int64
	coverTo    int64
	queueLimit int
}

// Message is one committed event: the seq of its row, its id, stream and JSON envelope.
type Message struct {
	Seq    int64
	ID     string
	Stream string
	JSON   []byte
}

// New returns a publisher of store's events over nc.
func New(store *sqlite.Store, nc *nats.Conn, log *slog.Logger) (*Publisher, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Publisher{store: store, js: js, log: log, notify: make(chan struct{}, 1), batch: 1000, queueLimit: 200_000}, nil
}

// Committed hands over the events of the rows first..last, just committed, and wakes
// the publisher.
func (p *Publisher) Committed(first, last int64, msgs []Message) {
	p.mu.Lock()
	if first != p.coverTo+1 || len(p.queue)+len(msgs) > p.queueLimit {
		p.queue, p.coverFrom = p.queue[:0], first-1 // start covering afresh; the log fills the gap
	}
	p.queue = append(p.queue, msgs...)
	p.coverTo = last
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Published returns the seq of the last row whose events JetStream acknowledged.
func (p *Publisher) Published() int64 { return p.published.Load() }

// Ready reports whether Run is running: it read its cursor and has not returned.
func (p *Publisher) Ready(context.Context) error {
	if !p.running.Load() {
		return failure.New(failure.Unavailable, "outbox_not_running", "the outbox is not running")
	}
	return nil
}

// Run publishes until ctx is done, resuming from the stored cursor.
func (p *Publisher) Run(ctx context.Context) error {
	cursor, err := p.store.PublishedSeq(ctx)
	if err != nil {
		return err
	}
	p.published.Store(cursor)
	p.running.Store(true)
	defer p.running.Store(false)
	for ctx.Err() == nil {
		if err := eventstream.Ensure(ctx, p.js); err != nil {
			p.log.Warn("ensure event stream; retrying", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		break
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		n, err := p.publishOnce(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("publish events; retrying", "after_seq", p.Published(), "err", err)
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		if n > 0 {
			continue // maybe more to send
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.notify:
		case <-tick.C:
		}
	}
}

// next returns the events after the cursor to publish next and the cursor after them:
// from the queue when it reaches back to the cursor, else from the log.
func (p *Publisher) next(ctx context.Context, cursor int64) ([]Message, int64, error) {
	p.mu.Lock()
	if cursor >= p.coverFrom && p.coverTo > cursor {
		i := 0
		for i < len(p.queue) && p.queue[i].Seq <= cursor {
			i++
		}
		msgs := append([]Message(nil), p.queue[i:]...)
		to := p.coverTo
		p.queue = p.queue[:0]
		p.coverFrom = to
		p.mu.Unlock()
		return msgs, to, nil
	}
	if p.coverTo > 0 && p.coverTo == cursor && cursor >= p.coverFrom {
		// Every row handed over is published, and every later commit will be handed
		// over (and wake the publisher): nothing to read from the log.
		p.mu.Unlock()
		return nil, cursor, nil
	}
	p.mu.Unlock()
	p.logReads.Add(1)
	rows, err := p.store.RowsAfter(ctx, cursor, p.batch)
	if err != nil || len(rows) == 0 {
		return nil, cursor, err
	}
	var msgs []Message
	for _, r := range rows {
		if r.Outcome != sqlite.Accepted {
			continue
		}
		var evs []json.RawMessage
		if err := json.Unmarshal(r.Events, &evs); err != nil {
			return nil, cursor, err
		}
		for _, ev := range evs {
			var id struct {
				ID string `json:"id"`
			}
			json.Unmarshal(ev, &id) //nolint:errcheck // written by us
			msgs = append(msgs, Message{Seq: r.Seq, ID: id.ID, Stream: r.Stream, JSON: ev})
		}
	}
	return msgs, rows[len(rows)-1].Seq, nil
}

// publishOnce publishes the next events after the cursor and advances it once JetStream
// acknowledged all of them. It returns how far the cursor moved.
func (p *Publisher) publishOnce(ctx context.Context) (int, error) {
	cursor := p.Published()
	msgs, to, err := p.next(ctx, cursor)
	if err != nil || to == cursor {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		f, err := p.js.PublishMsgAsync(&nats.Msg{Subject: event.Subject(m.Stream), Data: m.JSON, Header: nats.Header{nats.MsgIdHdr: []string{m.ID}}})
		if err != nil {
			return 0, err
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return 0, err
		case <-timeout.C:
			return 0, errors.New("jetstream did not acknowledge in 10s")
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	p.published.Store(to)
	return int(to - cursor), nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
