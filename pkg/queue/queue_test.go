package queue_test

import (
	"errors"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

const oneDomain = `
domain: A
queues:
  - name: a1
  - name: a2
    retry: {count: 1, delay: 150ms}
  - name: sink
    disable: {dequeue: true}
  - name: source
    disable: {enqueue: true}
`

// queueInfo lists the queues until name is among them: a listing takes the answers that
// come within 200ms, and an owner's that comes later (a loaded machine) is missing from it.
func queueInfo(t *testing.T, c *queue.Client, name string) queue.QueueInfo {
	t.Helper()
	ctx := ctxT(t)
	var info queue.QueueInfo
	stacktest.Eventually(t, 10*time.Second, func() error {
		qs, err := c.Queues(ctx, 200*time.Millisecond)
		if err != nil {
			return err
		}
		for _, q := range qs {
			if q.Name == name {
				info = q
				return nil
			}
		}
		return stacktest.Errorf("queue %s not listed in %+v", name, qs)
	})
	return info
}

func TestEnqueueDequeueCommit(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)

	id, err := c.Enqueue(ctx, "a1", queue.Message{Type: "text/plain", Payload: []byte("test\n"), Reply: "a2"}, queue.EnqueueOptions{})
	if err != nil || len(id) != 27 {
		t.Fatalf("enqueue: id %q, %v", id, err)
	}
	// Browsing consumes nothing.
	for range 2 {
		ms, err := c.Browse(ctx, "a1")
		if err != nil || len(ms) != 1 || ms[0].ID != id || ms[0].State != "available" || string(ms[0].Payload) != "test\n" || ms[0].Reply != "a2" {
			t.Fatalf("browse: %+v, %v", ms, err)
		}
	}
	d, err := c.Dequeue(ctx, "a1", queue.Select{})
	if err != nil || d.ID != id || string(d.Payload) != "test\n" || d.Type != "text/plain" {
		t.Fatalf("dequeue: %+v, %v", d, err)
	}
	if q := queueInfo(t, c, "a1"); q.Uncommitted != 1 || q.Count != 1 || q.Enqueued != 1 || q.Dequeued != 1 || q.Group != "A" {
		t.Fatalf("while dequeued: %+v", q)
	}
	if _, err := c.Dequeue(ctx, "a1", queue.Select{}); !errors.Is(err, queue.ErrNoMessage) {
		t.Fatalf("second dequeue of a dequeued message: %v", err)
	}
	if err := c.Commit(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx, d); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("commit twice: %v", err)
	}
	q := queueInfo(t, c, "a1")
	if q.Count != 0 || q.Size != 0 || q.Uncommitted != 0 || q.Enqueued != 1 || q.Dequeued != 1 || q.Last.IsZero() {
		t.Fatalf("after commit: %+v", q)
	}
}

func TestDequeueSelectsByPropertiesAndID(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)
	var ids []string
	for _, p := range []string{"red", "blue", "red"} {
		id, err := c.Enqueue(ctx, "a1", queue.Message{Properties: p, Payload: []byte(p)}, queue.EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	d, err := c.Dequeue(ctx, "a1", queue.Select{Properties: "blue"})
	if err != nil || d.ID != ids[1] {
		t.Fatalf("by properties: %+v, %v", d, err)
	}
	d, err = c.Dequeue(ctx, "a1", queue.Select{ID: ids[2]})
	if err != nil || d.ID != ids[2] {
		t.Fatalf("by id: %+v, %v", d, err)
	}
	if _, err := c.Dequeue(ctx, "a1", queue.Select{Properties: "green"}); !errors.Is(err, queue.ErrNoMessage) {
		t.Fatalf("no match: %v", err)
	}
	d, err = c.Dequeue(ctx, "a1", queue.Select{})
	if err != nil || d.ID != ids[0] {
		t.Fatalf("first available: %+v, %v", d, err)
	}
}

func TestBlockingDequeue(t *testing.T) {
	s := stacktest.NATS(t)
	o, _ := runOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)

	start := time.Now()
	if _, err := c.Dequeue(ctx, "a1", queue.Select{Wait: 200 * time.Millisecond}); !errors.Is(err, queue.ErrNoMessage) {
		t.Fatalf("empty: %v", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 2*time.Second {
		t.Fatalf("blocked %s, want about 200ms", el)
	}
	got := make(chan *queue.Dequeued, 1)
	go func() {
		d, _ := c.Dequeue(ctx, "a1", queue.Select{Wait: 5 * time.Second})
		got <- d
	}()
	// The enqueue must find the dequeue already waiting, or it proves nothing.
	stacktest.Eventually(t, 5*time.Second, func() error {
		if n := o.Blocked(); n != 1 {
			return stacktest.Errorf("%d dequeues waiting, want 1", n)
		}
		return nil
	})
	id, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("x")}, queue.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if d == nil || d.ID != id {
			t.Fatalf("blocked dequeue got %+v", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("blocked dequeue not served by the enqueue")
	}
}

func TestDelayedEnqueue(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)
	id, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("later")}, queue.EnqueueOptions{Delay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.Browse(ctx, "a1"); len(ms) != 1 || ms[0].State != "delayed" {
		t.Fatalf("browse: %+v", ms)
	}
	if _, err := c.Dequeue(ctx, "a1", queue.Select{}); !errors.Is(err, queue.ErrNoMessage) {
		t.Fatalf("dequeued before available: %v", err)
	}
	d, err := c.Dequeue(ctx, "a1", queue.Select{Wait: 2 * time.Second})
	if err != nil || d.ID != id || time.Now().Before(d.Available) {
		t.Fatalf("after delay: %+v, %v", d, err)
	}
}

func TestRollbackRetriesThenError(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)

	// a1: retry count 0, so the first rollback moves the message to a1.error at once.
	id, _ := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("test\n")}, queue.EnqueueOptions{})
	d, err := c.Dequeue(ctx, "a1", queue.Select{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(ctx, d); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.Browse(ctx, "a1"); len(ms) != 0 {
		t.Fatalf("a1 after rollback: %+v", ms)
	}
	ms, _ := c.Browse(ctx, "a1.error")
	if len(ms) != 1 || ms[0].ID != id || ms[0].Redelivered != 1 {
		t.Fatalf("a1.error: %+v", ms)
	}
	if q := queueInfo(t, c, "a1.error"); q.Count != 1 || q.Size != 5 || q.Avg() != 5 || q.Enqueued != 1 || q.Dequeued != 0 {
		t.Fatalf("a1.error info: %+v", q)
	}
	if q := queueInfo(t, c, "a1"); q.Enqueued != 1 || q.Dequeued != 1 || q.Count != 0 {
		t.Fatalf("a1 info: %+v", q)
	}

	// a2: retry count 1, delay 150ms: the first rollback delays, the second moves.
	id, _ = c.Enqueue(ctx, "a2", queue.Message{Payload: []byte("y")}, queue.EnqueueOptions{})
	d, _ = c.Dequeue(ctx, "a2", queue.Select{})
	rolled := time.Now()
	if err := c.Rollback(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dequeue(ctx, "a2", queue.Select{}); !errors.Is(err, queue.ErrNoMessage) {
		t.Fatalf("available before retry delay: %v", err)
	}
	d, err = c.Dequeue(ctx, "a2", queue.Select{Wait: 2 * time.Second})
	if err != nil || d.ID != id || d.Redelivered != 1 || time.Since(rolled) < 150*time.Millisecond {
		t.Fatalf("redelivery: %+v, %v after %s", d, err, time.Since(rolled))
	}
	if err := c.Rollback(ctx, d); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.Browse(ctx, "a2.error"); len(ms) != 1 || ms[0].Redelivered != 2 {
		t.Fatalf("a2.error: %+v", ms)
	}
}

func TestRestoreClearRemove(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)
	for range 3 {
		c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("m")}, queue.EnqueueOptions{}) //nolint:errcheck
		d, err := c.Dequeue(ctx, "a1", queue.Select{})
		if err != nil {
			t.Fatal(err)
		}
		c.Rollback(ctx, d) //nolint:errcheck
	}
	if ms, _ := c.Browse(ctx, "a1.error"); len(ms) != 3 {
		t.Fatalf("a1.error: %d messages", len(ms))
	}
	n, err := c.Restore(ctx, "a1")
	if err != nil || n != 3 {
		t.Fatalf("restore: %d, %v", n, err)
	}
	ms, _ := c.Browse(ctx, "a1")
	if len(ms) != 3 || ms[0].Redelivered != 0 || ms[0].State != "available" {
		t.Fatalf("a1 after restore: %+v", ms)
	}
	if n, err := c.Remove(ctx, "a1", ms[1].ID, "unknown"); err != nil || n != 1 {
		t.Fatalf("remove: %d, %v", n, err)
	}
	if n, err := c.Clear(ctx, "a1"); err != nil || n != 2 {
		t.Fatalf("clear: %d, %v", n, err)
	}
	if ms, _ := c.Browse(ctx, "a1"); len(ms) != 0 {
		t.Fatalf("a1 after clear: %+v", ms)
	}
}

func TestDisabledAndUnknown(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)
	if _, err := c.Enqueue(ctx, "sink", queue.Message{}, queue.EnqueueOptions{}); err != nil {
		t.Fatalf("enqueue to sink: %v", err)
	}
	if _, err := c.Dequeue(ctx, "sink", queue.Select{}); !errors.Is(err, queue.ErrDisabled) {
		t.Fatalf("dequeue disabled: %v", err)
	}
	if _, err := c.Enqueue(ctx, "source", queue.Message{}, queue.EnqueueOptions{}); !errors.Is(err, queue.ErrDisabled) {
		t.Fatalf("enqueue disabled: %v", err)
	}
	if _, err := c.Enqueue(ctx, "nowhere", queue.Message{}, queue.EnqueueOptions{}); !errors.Is(err, queue.ErrQueueNotFound) {
		t.Fatalf("unknown queue: %v", err)
	}
}

func TestDedupEnqueue(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)
	a, err1 := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("x")}, queue.EnqueueOptions{Dedup: "k1"})
	b, err2 := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("x")}, queue.EnqueueOptions{Dedup: "k1"})
	if err1 != nil || err2 != nil || a != b {
		t.Fatalf("dedup: %s %v, %s %v", a, err1, b, err2)
	}
	if ms, _ := c.Browse(ctx, "a1"); len(ms) != 1 {
		t.Fatalf("%d messages, want 1", len(ms))
	}
}

func TestLeaseExpiryRollsBack(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	c := queue.NewClient(stacktest.Connect(t, s))
	ctx := ctxT(t)
	id, _ := c.Enqueue(ctx, "a2", queue.Message{Payload: []byte("x")}, queue.EnqueueOptions{})
	d, err := c.Dequeue(ctx, "a2", queue.Select{Lease: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The dequeuer "dies": the owner rolls back after the lease, the retry delay passes.
	d2, err := c.Dequeue(ctx, "a2", queue.Select{Wait: 3 * time.Second})
	if err != nil || d2.ID != id || d2.Redelivered != 1 {
		t.Fatalf("after lease: %+v, %v", d2, err)
	}
	if err := c.Commit(ctx, d); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("late commit under the old lease: %v", err)
	}
	if err := c.Commit(ctx, d2); err != nil {
		t.Fatal(err)
	}
}

// Queue names are unique across connected domains: a second owner of a1 refuses to run.
func TestSecondOwnerOfAQueueRefuses(t *testing.T) {
	s := stacktest.NATS(t)
	startOwner(t, s, mustConfig(t, oneDomain))
	o, err := queue.NewOwner(mustConfig(t, "domain: Z\nqueues: [{name: z1}, {name: a1}]"), stacktest.Connect(t, s), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Run(ctxT(t)); !errors.Is(err, queue.ErrOwned) {
		t.Fatalf("second owner of a1: %v", err)
	}
}
