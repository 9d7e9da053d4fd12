package queue_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// Every queue event about a message carries the message's correlation id (the
// enqueuer's, else the message id) and, as its causation id, the message's previous
// event (the first: the enqueuer's cause); an owner rebuilt from the stream keeps both.
// The history stores them.
func TestEveryQueueEventCarriesTheCorrelationID(t *testing.T) {
	s := stacktest.NATS(t)
	cfg := mustConfig(t, oneDomain)
	stop := startOwner(t, s, cfg)
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)

	const x, cause = "order-42", "cause-1"
	id1, err := c.Enqueue(ctx, "a2", queue.Message{Payload: []byte("1")}, queue.EnqueueOptions{CorrelationID: x, CausationID: cause})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("2")}, queue.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 65), "tab\there", "é"} {
		if _, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("3")}, queue.EnqueueOptions{CorrelationID: bad}); !errors.Is(err, queue.ErrInvalid) {
			t.Fatalf("correlation id %q: %v, want ErrInvalid", bad, err)
		}
	}
	dequeueIDs := map[string]bool{} // the dequeued events' ids, as the dequeuer saw them
	take := func(q, want string) *queue.Dequeued {
		t.Helper()
		d, err := c.Dequeue(ctx, q, queue.Select{Wait: 5 * time.Second})
		if err != nil || d.CorrelationID != want || d.EventID == "" {
			t.Fatalf("dequeue %s: %+v, %v; want correlation id %s and an event id", q, d, err, want)
		}
		dequeueIDs[d.EventID] = true
		return d
	}
	// a2 tolerates one rollback: the second moves the message to a2.error.
	for range 2 {
		if err := c.Rollback(ctx, take("a2", x)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Restore(ctx, "a2"); err != nil || n != 1 {
		t.Fatalf("restore: %d, %v", n, err)
	}
	if err := c.Commit(ctx, take("a1", id2)); err != nil {
		t.Fatal(err)
	}
	if ms, err := c.Browse(ctx, "a2"); err != nil || len(ms) != 1 || ms[0].CorrelationID != x {
		t.Fatalf("browse a2: %+v, %v", ms, err)
	}

	// Rebuilt from the stream, the owner still knows the message's correlation id and
	// its last event (the next one's cause).
	stop()
	startOwner(t, s, cfg)
	if err := c.Commit(ctx, take("a2", x)); err != nil {
		t.Fatal(err)
	}

	want := map[string][]string{
		id1: {queue.Enqueued, queue.DequeuedType, queue.RolledBack, queue.DequeuedType, queue.RolledBack,
			queue.MovedToError, queue.Restored, queue.DequeuedType, queue.Committed},
		id2: {queue.Enqueued, queue.DequeuedType, queue.Committed},
	}
	es := historyOf(t, s, len(want[id1])+len(want[id2]))
	byMessage := map[string][]history.Entry{}
	for _, e := range es {
		byMessage[e.CommandID] = append(byMessage[e.CommandID], e) // a queue event's command id is its message's
	}
	for id, types := range want {
		correlation, causation := map[string]string{id1: x, id2: id2}[id], map[string]string{id1: cause, id2: ""}[id]
		var got []string
		for _, e := range byMessage[id] {
			got = append(got, e.Type)
			if e.CorrelationID != correlation || e.CausationID != causation {
				t.Errorf("message %s, %s: correlation %q causation %q, want %q and %q", id, e.Type, e.CorrelationID, e.CausationID, correlation, causation)
			}
			if e.Type == queue.DequeuedType && !dequeueIDs[e.ID] {
				t.Errorf("dequeued event %s: not the event id the dequeuer got", e.ID)
			}
			causation = e.ID
		}
		if !slices.Equal(got, types) {
			t.Errorf("message %s: events %v, want %v", id, got, types)
		}
	}
}

// historyOf runs a history writer on s's EVENTS stream until it stored n events, and
// returns them.
func historyOf(t *testing.T, s *server.Server, n int) []history.Entry {
	t.Helper()
	ctx := ctxT(t)
	store, err := history.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	hctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	nc := stacktest.Connect(t, s)
	go func() { history.Consume(hctx, nc, store, quiet); close(done) }() //nolint:errcheck
	defer func() { stop(); <-done }()
	var es []history.Entry
	stacktest.Eventually(t, 10*time.Second, func() error {
		es, _, err = store.After(ctx, 0, 1000)
		if err != nil {
			return err
		}
		if len(es) != n {
			return stacktest.Errorf("history holds %d events, want %d", len(es), n)
		}
		return nil
	})
	return es
}
