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
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// Publisher publishes the events of a store's log. Notify and Published are safe for
// concurrent use; Run must be called once.
type Publisher struct {
	store     *sqlite.Store
	js        jetstream.JetStream
	log       *slog.Logger
	notify    chan struct{}
	published atomic.Int64
	batch     int
}

// New returns a publisher of store's events over nc.
func New(store *sqlite.Store, nc *nats.Conn, log *slog.Logger) (*Publisher, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Publisher{store: store, js: js, log: log, notify: make(chan struct{}, 1), batch: 1000}, nil
}

// EnsureStream creates or updates the JetStream stream every domain publishes to.
func EnsureStream(ctx context.Context, js jetstream.JetStream) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       event.StreamName,
		Subjects:   event.StreamSubjects,
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Duplicates: 2 * time.Minute,
	})
	return err
}

// Notify wakes the publisher: new rows were committed.
func (p *Publisher) Notify() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Published returns the seq of the last row whose events JetStream acknowledged.
func (p *Publisher) Published() int64 { return p.published.Load() }

// Run publishes until ctx is done, resuming from the stored cursor.
func (p *Publisher) Run(ctx context.Context) error {
	cursor, err := p.store.PublishedSeq(ctx)
	if err != nil {
		return err
	}
	p.published.Store(cursor)
	for ctx.Err() == nil {
		if err := EnsureStream(ctx, p.js); err != nil {
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
		if n == p.batch {
			continue // more to send
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.notify:
		case <-tick.C:
		}
	}
}

// publishOnce publishes the events of up to p.batch rows after the cursor and advances
// it once JetStream acknowledged all of them. It returns the number of rows read.
func (p *Publisher) publishOnce(ctx context.Context) (int, error) {
	rows, err := p.store.RowsAfter(ctx, p.Published(), p.batch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	var futures []jetstream.PubAckFuture
	for _, r := range rows {
		if r.Outcome != sqlite.Accepted {
			continue
		}
		var evs []json.RawMessage
		if err := json.Unmarshal(r.Events, &evs); err != nil {
			return 0, err
		}
		for _, ev := range evs {
			var id struct {
				ID string `json:"id"`
			}
			json.Unmarshal(ev, &id) //nolint:errcheck // written by us
			f, err := p.js.PublishMsgAsync(&nats.Msg{Subject: event.Subject(r.Stream), Data: ev, Header: nats.Header{nats.MsgIdHdr: []string{id.ID}}})
			if err != nil {
				return 0, err
			}
			futures = append(futures, f)
		}
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
	p.published.Store(rows[len(rows)-1].Seq)
	return len(rows), nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
