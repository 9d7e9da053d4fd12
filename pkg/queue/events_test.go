package queue_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// Every queue operation is an event the history writer stores, in order, gapless.
func TestEveryOperationReachesTheHistory(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)

	c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("1")}, queue.EnqueueOptions{}) //nolint:errcheck
	d, _ := c.Dequeue(ctx, "a1", queue.Select{})
	c.Commit(ctx, d)                                                                  //nolint:errcheck
	c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("2")}, queue.EnqueueOptions{}) //nolint:errcheck
	d, _ = c.Dequeue(ctx, "a1", queue.Select{})
	c.Rollback(ctx, d)   //nolint:errcheck
	c.Restore(ctx, "a1") //nolint:errcheck
	c.Clear(ctx, "a1")   //nolint:errcheck
	c.Browse(ctx, "a1")  //nolint:errcheck // reads are not events
	want := []string{queue.Enqueued, queue.DequeuedType, queue.Committed, queue.Enqueued, queue.DequeuedType,
		queue.RolledBack, queue.MovedToError, queue.Restored, queue.Removed}

	store, err := history.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	hctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { history.Consume(hctx, stacktest.Connect(t, s), store, quiet); close(done) }() //nolint:errcheck
	defer func() { stop(); <-done }()
	stacktest.Eventually(t, 10*time.Second, func() error {
		es, _, err := store.After(ctx, 0, 100)
		if err != nil {
			return err
		}
		var types []string
		for i, e := range es {
			if e.Stream != "queue.A" || e.Version != int64(i+1) {
				return stacktest.Errorf("entry %d: stream %s version %d", i, e.Stream, e.Version)
			}
			types = append(types, e.Type)
		}
		if !slices.Equal(types, want) {
			return stacktest.Errorf("history types %v, want %v", types, want)
		}
		return nil
	})
}

// An owner restarted rebuilds its queues, counters and uncommitted messages from the
// stream; a message dequeued by someone who died comes back after its lease.
func TestOwnerRestartRebuildsFromTheStream(t *testing.T) {
	s := stacktest.NATS(t)
	cfg := mustConfig(t, oneDomain)
	stop := startOwner(t, s, cfg)
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)
	for _, p := range []string{"a", "b", "c"} {
		if _, err := c.Enqueue(ctx, "a2", queue.Message{Payload: []byte(p)}, queue.EnqueueOptions{Dedup: "k" + p}); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := c.Dequeue(ctx, "a2", queue.Select{})
	c.Commit(ctx, d) //nolint:errcheck
	// The lease must outlast everything up to the second snapshot (a listing's 200ms
	// wait, the owner's stop and restart: 250ms here, 450ms measured on two loaded cores):
	// were it to expire first, the restarted owner would show it rolled back.
	const lease = 3 * time.Second
	dequeued := time.Now()
	inflight, err := c.Dequeue(ctx, "a2", queue.Select{Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	before := queueInfo(t, c, "a2")
	stop()
	if _, err := c.Browse(ctx, "a2"); !errors.Is(err, queue.ErrQueueNotFound) {
		t.Fatalf("owner stopped, browse: %v", err)
	}

	startOwner(t, s, cfg)
	after := queueInfo(t, c, "a2")
	took := time.Since(dequeued) // beyond the lease, the message was rolled back meanwhile
	after.Last, before.Last = after.Last.UTC(), before.Last.UTC()
	if !after.Last.Equal(before.Last) {
		t.Fatalf("last %v, want %v (snapshot %s after the dequeue, lease %s)", after.Last, before.Last, took, lease)
	}
	after.Last, before.Last = time.Time{}, time.Time{}
	if after != before || after.Count != 2 || after.Uncommitted != 1 || after.Enqueued != 3 || after.Dequeued != 2 {
		t.Fatalf("after restart %+v, before %+v (snapshot %s after the dequeue, lease %s)", after, before, took, lease)
	}
	if id, _ := c.Enqueue(ctx, "a2", queue.Message{Payload: []byte("b")}, queue.EnqueueOptions{Dedup: "kb"}); id != inflight.ID {
		t.Fatalf("dedup lost over the restart: %s, want %s", id, inflight.ID)
	}
	// The lease survives the restart and expires: the message comes back, redelivered once.
	got, err := c.Dequeue(ctx, "a2", queue.Select{ID: inflight.ID, Wait: lease + 5*time.Second})
	if err != nil || got.Redelivered != 1 {
		t.Fatalf("after lease expiry: %+v, %v", got, err)
	}
}

// When events cannot be stored, the owner answers unavailable and rebuilds its state
// from the stream: memory never stays ahead of what is stored.
func TestUnstoredEventsAreNotServed(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	nc := stacktest.Connect(t, s)
	c := queue.NewClient(nc)
	ctx := ctxT(t)
	if _, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("stored")}, queue.EnqueueOptions{}); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(ctx, event.StreamName); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("lost")}, queue.EnqueueOptions{}); err == nil {
		t.Fatal("an enqueue whose event was not stored succeeded")
	}
	// The owner rebuilt from the (recreated, empty) stream: neither message is served.
	stacktest.Eventually(t, 10*time.Second, func() error {
		id, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("after")}, queue.EnqueueOptions{})
		if err != nil {
			return err
		}
		ms, err := c.Browse(ctx, "a1")
		if err != nil || len(ms) != 1 || ms[0].ID != id {
			return stacktest.Errorf("a1 after the rebuild: %+v, %v", ms, err)
		}
		return nil
	})
}
