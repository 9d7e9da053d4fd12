package history

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/outbox"
)

// ConsumerName is the durable JetStream consumer of the history writer.
const ConsumerName = "history_writer"

// Consume copies the EVENTS stream into store until ctx is done, in batches of up to
// 1000 events per transaction, acknowledging a batch only once it is committed.
func Consume(ctx context.Context, nc *nats.Conn, store *Store, log *slog.Logger) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	var cons jetstream.Consumer
	for {
		if err = outbox.EnsureStream(ctx, js); err == nil {
			cons, err = resumeConsumer(ctx, js)
		}
		if err == nil {
			break
		}
		log.Warn("history consumer not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	for ctx.Err() == nil {
		batch, err := cons.FetchNoWait(1000)
		if err == nil {
			err = store.appendBatch(ctx, batch, log)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("history fetch", "err", err)
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// resumeConsumer (re)creates the durable consumer so that it delivers again everything
// after its acknowledgement floor. A history writer that died (SIGKILL) between a fetch
// and its acknowledgement leaves messages pending on the consumer; continuing from the
// consumer's delivery pointer would fetch past them, and the next AckAll would
// acknowledge them unstored: lost from the history. Redelivered events already stored
// are skipped by event id.
func resumeConsumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 20000,
	}
	old, err := js.Consumer(ctx, event.StreamName, ConsumerName)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return js.CreateOrUpdateConsumer(ctx, event.StreamName, cfg)
	case err != nil:
		return nil, err
	}
	info := old.CachedInfo()
	if info.Delivered.Stream == info.AckFloor.Stream { // nothing pending
		cfg.DeliverPolicy, cfg.OptStartSeq = info.Config.DeliverPolicy, info.Config.OptStartSeq // not updatable
		return js.CreateOrUpdateConsumer(ctx, event.StreamName, cfg)
	}
	if err := js.DeleteConsumer(ctx, event.StreamName, ConsumerName); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, info.AckFloor.Stream+1
	return js.CreateOrUpdateConsumer(ctx, event.StreamName, cfg)
}

func (s *Store) appendBatch(ctx context.Context, batch jetstream.MessageBatch, log *slog.Logger) error {
	var msgs []jetstream.Msg
	var events []event.Envelope
	for m := range batch.Messages() {
		msgs = append(msgs, m)
		e, err := decodeEvent(m.Data())
		if err != nil {
			log.Error("history: dropping a message that is not an event", "subject", m.Subject(), "err", err)
			continue
		}
		events = append(events, e)
	}
	if err := batch.Error(); err != nil {
		return err
	}
	if len(msgs) == 0 {
		time.Sleep(20 * time.Millisecond) // FetchNoWait returned nothing: idle
		return nil
	}
	// Retry this batch until it is stored: fetching past it would reorder the history.
	for {
		_, err := s.Append(ctx, events)
		if err == nil {
			break
		}
		log.Warn("history append failed; retrying", "events", len(events), "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
	return msgs[len(msgs)-1].Ack() // AckAll: acknowledges the whole batch
}

// decodeEvent decodes a message of the events stream; one without an id is not an event.
func decodeEvent(b []byte) (event.Envelope, error) {
	var e event.Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return e, err
	}
	if e.ID == "" {
		return e, errors.New("no event id")
	}
	return e, nil
}
