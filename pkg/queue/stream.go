package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/event"
)

// StreamOf is the event stream ("queue.<domain>") holding a domain's queue events.
func StreamOf(domain string) string { return "queue." + domain }

func newID() string { return ksuid.New().String() }

// publish sends changes to the EVENTS stream, in order, each as an event envelope
// whose id is its JetStream message id; awaitAcks waits for them to be stored.
func (o *Owner) publish(cs []change) ([]jetstream.PubAckFuture, error) {
	stream := StreamOf(o.cfg.Domain)
	subject := event.Subject(stream)
	futures := make([]jetstream.PubAckFuture, 0, len(cs))
	for _, c := range cs {
		data, err := json.Marshal(c)
		if err != nil {
			return futures, err
		}
		o.st.version++
		env := event.Envelope{ID: c.event, Stream: stream, Version: o.st.version, Type: c.Type, Data: data,
			CommandID: c.ID, CorrelationID: c.correlation, CausationID: c.causation, Time: c.Time}
		if c.Type == Enqueued {
			env.CommandID = c.Message.ID
		}
		b, err := json.Marshal(env)
		if err != nil {
			return futures, err
		}
		msg := &nats.Msg{Subject: subject, Data: b, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, env.ID)
		f, err := o.js.PublishMsgAsync(msg)
		if err != nil {
			return futures, err
		}
		futures = append(futures, f)
	}
	return futures, nil
}

func awaitAcks(futures []jetstream.PubAckFuture) error {
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-timeout.C:
			return errors.New("no acknowledgement from JetStream within 10s")
		}
	}
	return nil
}

// rebuild replaces the state with the fold of every queue event of the domain.
func (o *Owner) rebuild(ctx context.Context) error {
	for {
		err := o.ensureStream(ctx)
		if err == nil {
			break
		}
		o.log.Warn("event stream not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	st := newDomainState(o.cfg)
	subject := event.Subject(StreamOf(o.cfg.Domain))
	stream, err := o.js.Stream(ctx, event.StreamName)
	if err != nil {
		return err
	}
	last, err := stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		o.st, o.waiters = st, o.waiters[:0]
		return nil
	} else if err != nil {
		return err
	}
	cons, err := o.js.OrderedConsumer(ctx, event.StreamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return err
	}
	for done := false; !done; {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return err
			}
			if err := st.fold(m.Data()); err != nil {
				return err
			}
			if meta.Sequence.Stream >= last.Sequence {
				done = true
				break
			}
		}
		if err := batch.Error(); err != nil {
			return err
		}
		if n == 0 && !done {
			return errors.New("queue events stopped before the end of the stream")
		}
	}
	o.st, o.waiters = st, o.waiters[:0]
	return nil
}

// fold applies one stored queue event.
func (s *domainState) fold(b []byte) error {
	var c change
	env, err := event.Decode(b, nil)
	if err != nil {
		return fmt.Errorf("queue event: %w", err)
	}
	if err := json.Unmarshal(env.Data, &c); err != nil {
		return fmt.Errorf("queue event %s: %w", env.ID, err)
	}
	c.Type, c.event = env.Type, env.ID
	if err := s.apply(c); err != nil {
		return err
	}
	s.version = env.Version
	return nil
}
