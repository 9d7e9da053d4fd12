package queuedomain_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	multipledomain "uneventful.dev/uneventful/examples/multiple-domain"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// startDomain runs the example domain name on its own embedded server; peers are the
// leafnode URLs of domains to join.
func startDomain(t *testing.T, name string, leafPort int, peers ...string) *queuedomain.Domain {
	t.Helper()
	cfg, err := queue.LoadConfig("../../examples/multiple-domain/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := stacktest.QueueDomain(t, queuedomain.Config{Queues: cfg, Embed: queuedomain.Embed{Port: -1, StoreDir: t.TempDir(), LeafPort: leafPort, LeafPeers: peers}})
	return d
}

func connectURL(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// casual's multiple-domain example: "test" enqueued from A into b1 in B; B's
// forward-service b1 calls echo in A, the reply goes to b2; B's forward-queue b2 moves it
// to a1 in A; A's forward-service a1 calls rollback, which fails: the message ends in
// a1.error. The two domains run on two NATS servers joined by a leafnode.
func TestMultipleDomainExample(t *testing.T) {
	a := startDomain(t, "A", -1)
	b := startDomain(t, "B", 0, a.LeafURL())
	ncA, ncB := connectURL(t, a.ClientURL()), connectURL(t, b.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Each domain sees the other's queues once the leafnode is up.
	stacktest.Eventually(t, 10*time.Second, func() error {
		for _, nc := range []*nats.Conn{ncA, ncB} {
			l, err := queuedomain.List(ctx, nc, 150*time.Millisecond)
			if err != nil {
				return err
			}
			if _, ok := l.Queue("b1"); !ok {
				return stacktest.Errorf("b1 not visible")
			}
			if _, ok := l.Queue("a1"); !ok {
				return stacktest.Errorf("a1 not visible")
			}
		}
		return nil
	})

	const correlation = "casual-example"
	id, err := queue.NewClient(ncA).Enqueue(ctx, "b1", queue.Message{Payload: []byte("test\n")}, queue.EnqueueOptions{CorrelationID: correlation})
	if err != nil || len(id) != 27 {
		t.Fatalf("enqueue from A into b1: %q, %v", id, err)
	}
	var last error
	stacktest.Eventually(t, 10*time.Second, func() error {
		l, err := queuedomain.List(ctx, ncB, 150*time.Millisecond)
		if err != nil {
			return err
		}
		last = multipledomain.Check(l)
		return last
	})
	ms, err := queue.NewClient(ncB).Browse(ctx, "a1.error")
	if err != nil || len(ms) != 1 || string(ms[0].Payload) != "test\n" || ms[0].Redelivered != 1 || ms[0].CorrelationID != correlation {
		t.Fatalf("a1.error seen from B: %+v, %v", ms, err)
	}
	// A listing takes the answers that come within 150ms: one that comes later (a loaded
	// machine) is missing from it, so the listing is asked again.
	stacktest.Eventually(t, 10*time.Second, func() error {
		l, err := queuedomain.List(ctx, ncA, 150*time.Millisecond)
		if err != nil {
			return err
		}
		if len(l.Connections) != 2 {
			return stacktest.Errorf("connections: %+v, want one each way", l.Connections)
		}
		for _, c := range l.Connections {
			if (c.Domain == "A" && (c.Name != "B" || c.Bound != "in")) || (c.Domain == "B" && (c.Name != "A" || c.Bound != "out")) {
				t.Fatalf("connection %+v", c)
			}
		}
		return nil
	})

	// Each domain's EVENTS stream holds its own queue events only: the leafnode does not
	// carry events.> (a stream on both sides would store the other domain's events).
	for name, nc := range map[string]*nats.Conn{"A": ncA, "B": ncB} {
		js, _ := jetstream.New(nc)
		st, err := js.Stream(ctx, event.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx, jetstream.WithSubjectFilter("events.>"))
		if err != nil {
			t.Fatal(err)
		}
		for subj := range info.State.Subjects {
			if subj != event.Subject(queue.StreamOf(name)) {
				t.Errorf("domain %s stores %s", name, subj)
			}
		}
		if len(info.State.Subjects) != 1 {
			t.Errorf("domain %s: subjects %v", name, info.State.Subjects)
		}
	}

	// One correlation id from the first enqueue to the error queue, across both domains,
	// each event naming its cause:
	// B stored b1's and b2's events (enqueued, dequeued, committed each), A a1's
	// (enqueued, dequeued, rolled back, moved to a1.error).
	for name, n := range map[string]int{"A": 4, "B": 6} {
		nc := map[string]*nats.Conn{"A": ncA, "B": ncB}[name]
		es := storedEvents(t, ctx, nc)
		if len(es) != n {
			t.Errorf("domain %s stored %d events, want %d", name, len(es), n)
		}
		for _, e := range es {
			first := e.Type == queue.Enqueued && e.CommandID == id // the enqueue from A: no cause given
			if e.CorrelationID != correlation || (e.CausationID == "") != first {
				t.Errorf("domain %s, %s of %s: correlation %q causation %q", name, e.Type, e.CommandID, e.CorrelationID, e.CausationID)
			}
		}
	}
}
