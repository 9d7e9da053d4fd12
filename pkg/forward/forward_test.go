package forward_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// run starts the owner of cfg's queues and, unless ownerOnly, its forwards.
func run(t testing.TB, s *server.Server, yaml string, ownerOnly bool) *forward.Forwards {
	t.Helper()
	cfg, err := queue.ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	nc := stacktest.Connect(t, s)
	o, err := queue.NewOwner(cfg, nc, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	t.Cleanup(func() { cancel(); <-done; <-done })
	go func() { o.Run(ctx); done <- struct{}{} }() //nolint:errcheck
	c := queue.NewClient(nc)
	stacktest.Eventually(t, 10*time.Second, func() error { _, err := c.Browse(ctx, cfg.Queues[0].Name); return err })
	fs := forward.New(cfg, nc, quiet)
	if ownerOnly {
		done <- struct{}{}
		return fs
	}
	go func() { fs.Run(ctx); done <- struct{}{} }() //nolint:errcheck
	return fs
}

func serve(t testing.TB, nc *nats.Conn, name string, h forward.Handler) *forward.Service {
	t.Helper()
	s, err := forward.Serve(nc, "test", name, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func browse(t testing.TB, c *queue.Client, q string) []queue.Browsed {
	t.Helper()
	ms, err := c.Browse(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func flowInfo(fs *forward.Forwards, alias string) forward.Info {
	for _, i := range fs.Info() {
		if i.Alias == alias {
			return i
		}
	}
	return forward.Info{}
}

const config = `
domain: T
queues:
  - name: in
  - name: out
  - name: slow
  - name: wide
forward:
  services:
    - source: in
      target: {service: upper}
      reply: {queue: out}
    - source: slow
      target: {service: sleepy, timeout: 100ms}
    - source: wide
      instances: 3
      target: {service: gate}
`

func TestForwardServiceRepliesOrRollsBack(t *testing.T) {
	s := stacktest.NATS(t)
	nc := stacktest.Connect(t, s)
	var fail atomic.Bool
	upper := serve(t, nc, "upper", func(_ context.Context, p []byte, h nats.Header) ([]byte, error) {
		if fail.Load() {
			return nil, errors.New("refused")
		}
		if h.Get(forward.MessageIDHeader) == "" {
			return nil, errors.New("no message id header")
		}
		out := []byte(string(p) + "!")
		return out, nil
	})
	fs := run(t, s, config, false)
	c := queue.NewClient(nc)
	ctx := context.Background()

	if _, err := c.Enqueue(ctx, "in", queue.Message{Type: "text/plain", Payload: []byte("hi"), Properties: "p"}, queue.EnqueueOptions{}); err != nil {
		t.Fatal(err)
	}
	stacktest.Eventually(t, 5*time.Second, func() error {
		if ms := browse(t, c, "out"); len(ms) != 1 || string(ms[0].Payload) != "hi!" || ms[0].Type != "text/plain" || ms[0].Properties != "p" {
			return stacktest.Errorf("out: %+v", ms)
		}
		if i := flowInfo(fs, "in"); i.Commits != 1 || i.Rollbacks != 0 || i.I != 1 || i.Last.IsZero() {
			return stacktest.Errorf("forward: %+v", i)
		}
		return nil
	})
	if len(browse(t, c, "in")) != 0 {
		t.Fatal("source not empty after commit")
	}

	fail.Store(true)
	id, _ := c.Enqueue(ctx, "in", queue.Message{Payload: []byte("no")}, queue.EnqueueOptions{})
	stacktest.Eventually(t, 5*time.Second, func() error {
		if ms := browse(t, c, "in.error"); len(ms) != 1 || ms[0].ID != id {
			return stacktest.Errorf("in.error: %+v", ms)
		}
		if i := flowInfo(fs, "in"); i.Rollbacks != 1 {
			return stacktest.Errorf("forward: %+v", i)
		}
		return nil
	})
	if si := upper.Info(); si.Calls != 2 || si.Errors != 1 || si.Min <= 0 || si.Max < si.Min || si.Last.IsZero() {
		t.Fatalf("service stats: %+v", si)
	}
	if len(browse(t, c, "out")) != 1 {
		t.Fatal("a failed call enqueued a reply")
	}
}

func TestForwardServiceTimeoutRollsBack(t *testing.T) {
	s := stacktest.NATS(t)
	nc := stacktest.Connect(t, s)
	serve(t, nc, "sleepy", func(context.Context, []byte, nats.Header) ([]byte, error) {
		time.Sleep(400 * time.Millisecond)
		return nil, nil
	})
	fs := run(t, s, config, false)
	c := queue.NewClient(nc)
	c.Enqueue(context.Background(), "slow", queue.Message{Payload: []byte("z")}, queue.EnqueueOptions{}) //nolint:errcheck
	stacktest.Eventually(t, 5*time.Second, func() error {
		if ms := browse(t, c, "slow.error"); len(ms) != 1 {
			return stacktest.Errorf("slow.error: %d", len(ms))
		}
		if i := flowInfo(fs, "slow"); i.Rollbacks != 1 || i.Commits != 0 {
			return stacktest.Errorf("forward: %+v", i)
		}
		return nil
	})
}

// instances = 3 runs three flows at once: three messages are dequeued together
// (uncommitted while their calls are in the one slow service instance). The service holds
// its first call until the test has seen the three: how long a call takes is no window
// the test's listings must hit.
func TestForwardInstancesRunConcurrently(t *testing.T) {
	s := stacktest.NATS(t)
	nc := stacktest.Connect(t, s)
	gate := make(chan struct{})
	var open sync.Once
	defer open.Do(func() { close(gate) }) // before the cleanups stop the forwards
	serve(t, nc, "gate", func(context.Context, []byte, nats.Header) ([]byte, error) {
		<-gate
		return nil, nil
	})
	fs := run(t, s, config, false)
	c := queue.NewClient(nc)
	for range 6 {
		c.Enqueue(context.Background(), "wide", queue.Message{Payload: []byte("w")}, queue.EnqueueOptions{}) //nolint:errcheck
	}
	peak := 0
	uncommitted := func(wait time.Duration) error {
		qs, err := c.Queues(context.Background(), wait)
		if err != nil {
			return err
		}
		for _, q := range qs {
			if q.Name == "wide" {
				peak = max(peak, q.Uncommitted)
				return nil
			}
		}
		return stacktest.Errorf("wide not listed")
	}
	stacktest.Eventually(t, 4*time.Second, func() error { // within the calls' 5s timeout
		if err := uncommitted(200 * time.Millisecond); err != nil {
			return err
		}
		if peak < 3 {
			return stacktest.Errorf("%d messages uncommitted, want 3", peak)
		}
		return nil
	})
	open.Do(func() { close(gate) })
	stacktest.Eventually(t, 5*time.Second, func() error {
		uncommitted(20 * time.Millisecond) //nolint:errcheck // a listing that came late is no peak
		if i := flowInfo(fs, "wide"); i.Commits != 6 || i.CI != 3 || i.I != 3 {
			return stacktest.Errorf("forward: %+v", i)
		}
		return nil
	})
	if peak != 3 {
		t.Fatalf("peak of uncommitted messages %d, want 3", peak)
	}
}

const relay = `
domain: R
queues:
  - name: src
    retry: {count: 3}
  - name: dst
forward:
  queues:
    - source: src
      target: {queue: dst, delay: 0s}
`

// A forwarder that died after enqueueing downstream but before committing: the owner
// rolls the message back when its lease expires, the next forwarder forwards it again,
// and the target deduplicates: exactly one copy arrives, nothing stays behind.
func TestForwarderDeathLosesAndDuplicatesNothing(t *testing.T) {
	s := stacktest.NATS(t)
	nc := stacktest.Connect(t, s)
	run(t, s, relay, true) // the owner only: the "dead" forwarder works by hand
	c := queue.NewClient(nc)
	ctx := context.Background()
	id, _ := c.Enqueue(ctx, "src", queue.Message{Payload: []byte("once")}, queue.EnqueueOptions{})
	d, err := c.Dequeue(ctx, "src", queue.Select{Lease: 200 * time.Millisecond})
	if err != nil || d.ID != id {
		t.Fatalf("dequeue: %+v, %v", d, err)
	}
	if _, err := c.Enqueue(ctx, "dst", queue.Message{Payload: d.Payload}, queue.EnqueueOptions{Dedup: "src/" + d.ID}); err != nil {
		t.Fatal(err)
	}
	// ... and died here. A live forwarder of the same alias takes over.
	cfg, _ := queue.ParseConfig([]byte(relay))
	fs := forward.New(cfg, nc, quiet)
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { fs.Run(fctx); close(done) }() //nolint:errcheck
	defer func() { cancel(); <-done }()
	stacktest.Eventually(t, 5*time.Second, func() error {
		if i := flowInfo(fs, "src"); i.Commits != 1 {
			return stacktest.Errorf("forward: %+v", i)
		}
		return nil
	})
	if ms := browse(t, c, "dst"); len(ms) != 1 || string(ms[0].Payload) != "once" {
		t.Fatalf("dst: %+v", ms)
	}
	if ms := browse(t, c, "src"); len(ms) != 0 {
		t.Fatalf("src: %+v", ms)
	}
}
