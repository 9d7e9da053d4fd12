package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstream"
)

// Notifier is transactional enqueue from a domain: a domain command's event (say
// wallet's "debited") is committed in the writer's SQLite transaction with the rest of
// the command and published by the outbox; the Notifier, a durable consumer of the
// EVENTS stream, enqueues each matching event (its envelope as the payload, type
// application/json, properties the event's stream) with the event id as deduplication
// key, the event's correlation id and the event as its cause, acknowledging only once
// the owner stored it. So the queue message exists if and only if the command
// committed, exactly once, whatever crashes in between.
type Notifier struct {
	cfg Config
	nc  *nats.Conn
	log *slog.Logger
}

// NewNotifier returns the notifier of cfg.Notify over nc.
func NewNotifier(cfg Config, nc *nats.Conn, log *slog.Logger) *Notifier {
	return &Notifier{cfg: cfg, nc: nc, log: log}
}

// Run enqueues matching events until ctx is done.
func (n *Notifier) Run(ctx context.Context) error {
	if len(n.cfg.Notify) == 0 {
		<-ctx.Done()
		return nil
	}
	js, err := jetstream.New(n.nc)
	if err != nil {
		return err
	}
	var subjects []string
	seen := map[string]bool{}
	for _, c := range n.cfg.Notify {
		if s := event.Subject(c.Stream + ".>"); !seen[s] {
			seen[s] = true
			subjects = append(subjects, s)
		}
	}
	var cons jetstream.Consumer
	for {
		if err = eventstream.Ensure(ctx, js); err == nil {
			cons, err = js.CreateOrUpdateConsumer(ctx, event.StreamName, jetstream.ConsumerConfig{
				Durable:        "queue_notify_" + n.cfg.Domain,
				FilterSubjects: subjects,
				AckPolicy:      jetstream.AckExplicitPolicy,
				AckWait:        30 * time.Second,
				MaxAckPending:  1000,
			})
		}
		if err == nil {
			break
		}
		n.log.Warn("notify consumer not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	c := NewClient(n.nc)
	for ctx.Err() == nil {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() == nil {
				time.Sleep(200 * time.Millisecond)
			}
			continue
		}
		for m := range batch.Messages() {
			if err := n.notify(ctx, c, m.Data()); err != nil {
				n.log.Warn("notify: enqueue failed; redelivering", "err", err)
				m.NakWithDelay(time.Second) //nolint:errcheck
				continue
			}
			m.Ack() //nolint:errcheck // unacknowledged: redelivered and deduplicated
		}
	}
	return nil
}

func (n *Notifier) notify(ctx context.Context, c *Client, data []byte) error {
	env, err := event.Decode(data, nil)
	if err != nil {
		return nil // not an event: nothing to notify
	}
	for _, nc := range n.cfg.Notify {
		if env.Type != nc.Type || len(env.Stream) <= len(nc.Stream) || env.Stream[:len(nc.Stream)+1] != nc.Stream+"." {
			continue
		}
		opt := EnqueueOptions{Dedup: "notify/" + nc.Queue + "/" + env.ID, CausationID: env.ID}
		if ValidCorrelationID(env.CorrelationID) {
			opt.CorrelationID = env.CorrelationID // the command's work item goes on
		}
		if _, err := c.Enqueue(ctx, nc.Queue, Message{Type: "application/json", Payload: data, Properties: env.Stream}, opt); err != nil {
			return err
		}
	}
	return nil
}
