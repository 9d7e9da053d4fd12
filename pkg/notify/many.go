package notify

import (
	"context"
	"strings"
)

// scanCount is the COUNT of each SCAN, and so about the keys of each MGET.
const scanCount = 1000

// sessionKeys matches the state documents of sessions, session.<27 characters> (a KSUID),
// and no other key of the domain (session.<id>.events is longer).
var sessionKeys = Domain + "." + strings.Repeat("?", 27)

// NotifyMany sends a notification of type typ in namespace ns to every session whose
// attributes match c in ns (c is evaluated in ns; a Within switches namespace), each
// once. The sessions are those of the Redis read model during the call: SCAN over the
// session documents (session.<id>), each batch of keys read with one MGET while the next
// is scanned, destroyed sessions skipped. A session created or changed during the call
// may be judged by its state before or after the change. It returns once the NATS server
// has every message.
//
// The read model is one Redis (C2); SCAN visits every key of its database, so the cost
// grows with all the keys Redis holds (wallets included), not only the sessions.
//
// Errors: ErrInvalidNamespace, ErrInvalidType, ErrInvalidConstraint, ErrInvalidPayload,
// ErrPayloadTooLarge, ErrUnavailable (NATS or Redis), ctx's error.
func (n *Notifier) NotifyMany(ctx context.Context, ns, typ string, c Constraint, payload any) (Receipt, error) {
	if err := c.Validate(); err != nil {
		return Receipt{}, err
	}
	body, err := message(ns, typ, payload, &c)
	if err != nil {
		return Receipt{}, err
	}
	want := map[string]bool{ns: true}
	c.namespaces(want)
	sent := map[string]bool{} // SCAN may return a key twice
	err = n.eachSession(ctx, want, func(id string, a Attributes) error {
		if sent[id] || !c.Match(a, ns) {
			return nil
		}
		sent[id] = true
		if err := n.nc.Publish(Subject(id), body.to(id)); err != nil {
			return ErrUnavailable.With("nats: " + err.Error())
		}
		return nil
	})
	if err != nil {
		return Receipt{}, err
	}
	if err := n.flush(ctx); err != nil {
		return Receipt{}, err
	}
	return Receipt{ID: body.id, Sessions: len(sent)}, nil
}

// sessionDoc is what NotifyMany reads of a session's document.
type sessionDoc struct {
	Destroyed  bool       `json:"destroyed"`
	Attributes Attributes `json:"attributes"`
}

// eachSession calls f with every session of the read model that is not destroyed, with
// its attributes in the namespaces of want, on the calling goroutine, while another
// goroutine reads ahead (SCAN, then MGET of the keys it returned).
func (n *Notifier) eachSession(ctx context.Context, want map[string]bool, f func(id string, a Attributes) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type batch struct {
		keys []string
		docs []any
	}
	batches := make(chan batch, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- n.read(ctx, func(keys []string, docs []any) bool {
			select {
			case batches <- batch{keys, docs}:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for b := range batches {
		for i, d := range b.docs {
			s, ok := d.(string)
			if !ok {
				continue // deleted since the scan
			}
			destroyed, a := readDoc(s, want)
			if destroyed {
				continue
			}
			if err := f(b.keys[i][len(Domain)+1:], a); err != nil {
				return err
			}
		}
	}
	if err := <-readErr; err != nil {
		return unavailable(ctx, err)
	}
	return nil
}

// read hands the session documents to f a batch at a time, with their keys, until f
// returns false or every key was scanned.
func (n *Notifier) read(ctx context.Context, f func(keys []string, docs []any) bool) error {
	var cursor uint64
	for {
		keys, next, err := n.rdb.Scan(ctx, cursor, sessionKeys, scanCount).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			docs, err := n.rdb.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			if !f(keys, docs) {
				return ctx.Err()
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// unavailable is ctx's error if it ended, else err as ErrUnavailable.
func unavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return ErrUnavailable.With("redis: " + err.Error())
}
