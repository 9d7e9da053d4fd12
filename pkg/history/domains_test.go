package history_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstream"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/natsembed"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestConsumeSeveralJetStreamDomains: two NATS servers, each its own JetStream domain
// (A, B) with its own EVENTS stream, B a leafnode of A, as the multiple-domain example's
// domains. A history writer connected to A only copies both streams, B's through the
// leafnode: each event once, each stream in its order, positions without a gap; stopped
// and started again, it resumes each stream where it stopped.
func TestConsumeSeveralJetStreamDomains(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, leaf := natsDomain(t, "A", "")
	b, _ := natsDomain(t, "B", leaf)
	ncA, ncB := stacktest.Connect(t, a), stacktest.Connect(t, b)
	jsA, jsB := ensureEvents(t, ncA), ensureEvents(t, ncB)
	// The leafnode is up once A's connection reaches B's JetStream API.
	viaA, err := jetstream.NewWithDomain(ncA, "B")
	if err != nil {
		t.Fatal(err)
	}
	stacktest.Eventually(t, 20*time.Second, func() error {
		_, err := viaA.Stream(ctx, event.StreamName)
		return err
	})

	publish(t, jsA, streamEvs("a", 1, 5))
	publish(t, jsB, streamEvs("b", 1, 4))
	store := openHistory(t)
	stop := consume(t, ncA, store, "A", "B")
	waitStreams(t, store, map[string]int{"a": 5, "b": 4})
	waitAcked(t, jsA, 5)
	waitAcked(t, viaA, 4) // acknowledged through the leafnode: a restart resumes after them
	stop()

	publish(t, jsA, streamEvs("a", 6, 7))
	publish(t, jsB, streamEvs("b", 5, 9))
	stop = consume(t, ncA, store, "A", "B")
	publish(t, jsB, streamEvs("b", 10, 10))
	waitStreams(t, store, map[string]int{"a": 7, "b": 10})
	stop()

	// Two copiers of one stream would delete each other's consumer.
	if err := history.Consume(ctx, ncA, store, slog.New(slog.DiscardHandler), "A", "A"); err == nil {
		t.Fatal("a domain named twice was accepted")
	}
}

// Ready names the JetStream domains not yet copied: a domain no server has (a misspelled
// HISTORY_JS_DOMAINS) stays named while the others are copied; no domain but the
// server's own, and it is nil once that one is copied.
func TestCopyReadyNamesDomainsNotCopied(t *testing.T) {
	a, _ := natsDomain(t, "A", "")
	nc := stacktest.Connect(t, a)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	run := func(cp *history.Copy) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { cp.Run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	ctx := context.Background()
	cp, err := history.NewCopy(nc, openHistory(t), slog.New(slog.DiscardHandler), "A", "Nosuch")
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Ready(ctx); err == nil || !strings.Contains(err.Error(), "A, Nosuch") {
		t.Fatalf("before it ran: Ready = %v, want both domains named", err)
	}
	stop := run(cp)
	// A is copied once its consumer exists; Nosuch never is.
	stacktest.Eventually(t, 20*time.Second, func() error {
		_, err := js.Consumer(ctx, event.StreamName, history.ConsumerName)
		return err
	})
	stacktest.Eventually(t, 20*time.Second, func() error {
		if err := cp.Ready(ctx); err == nil || !strings.HasSuffix(err.Error(), "domain(s) Nosuch") {
			return fmt.Errorf("Ready = %v, want Nosuch alone named", err)
		}
		return nil
	})
	stop() // two copies of one stream would delete each other's consumer

	own, err := history.NewCopy(nc, openHistory(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer run(own)()
	stacktest.Eventually(t, 20*time.Second, func() error { return own.Ready(ctx) })
}

// waitAcked waits until the history writer's consumer of js's EVENTS stream has
// acknowledged its first n messages.
func waitAcked(t *testing.T, js jetstream.JetStream, n uint64) {
	t.Helper()
	stacktest.Eventually(t, 20*time.Second, func() error {
		c, err := js.Consumer(context.Background(), event.StreamName, history.ConsumerName)
		if err != nil {
			return err
		}
		if f := c.CachedInfo().AckFloor.Stream; f != n {
			return fmt.Errorf("acknowledged up to %d, want %d", f, n)
		}
		return nil
	})
}

// natsDomain starts a NATS server with JetStream domain name until the test ends; with
// leaf set, a leafnode of the server at that URL, else one leafnodes connect to (its URL
// returned). Events stay in their domain (events.> does not cross the leafnode), as
// between queue domains.
func natsDomain(t *testing.T, name, leaf string) (*server.Server, string) {
	t.Helper()
	opts := &server.Options{ServerName: name, Host: "127.0.0.1", Port: -1, JetStream: true, JetStreamDomain: name, StoreDir: t.TempDir()}
	if leaf == "" {
		opts.LeafNode.Host, opts.LeafNode.Port = "127.0.0.1", -1
	} else {
		u, err := url.Parse(leaf)
		if err != nil {
			t.Fatal(err)
		}
		local := []string{"events.>"}
		opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, DenyImports: local, DenyExports: local}}
	}
	s, err := natsembed.Start(opts, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { natsembed.Stop(s) })
	return s, fmt.Sprintf("nats-leaf://127.0.0.1:%d", opts.LeafNode.Port)
}

// ensureEvents makes the EVENTS stream of nc's server's domain.
func ensureEvents(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstream.Ensure(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	return js
}

// streamEvs returns the events <stream>1..<stream><to> of entity stream "<stream>.x",
// each its own id.
func streamEvs(stream string, from, to int) []event.Envelope {
	es := evs(from, to)
	for i := range es {
		es[i].ID = fmt.Sprintf("%s%d", stream, from+i)
		es[i].Stream = stream + ".x"
	}
	return es
}

// waitStreams waits until the history holds exactly the events <s>1..<s><n> of each
// stream s, each stream's in order, at positions 1 to the total without a gap.
func waitStreams(t *testing.T, store *history.Store, want map[string]int) {
	t.Helper()
	total := 0
	for _, n := range want {
		total += n
	}
	stacktest.Eventually(t, 20*time.Second, func() error {
		got, _, err := store.After(context.Background(), 0, total+1)
		if err != nil {
			return err
		}
		if len(got) != total {
			return fmt.Errorf("history holds %d events, want %d", len(got), total)
		}
		next := map[string]int{}
		for i, e := range got {
			s, _, _ := strings.Cut(e.Stream, ".")
			next[s]++
			if id := fmt.Sprintf("%s%d", s, next[s]); e.ID != id || e.Position != int64(i+1) {
				t.Fatalf("entry %d: %s at position %d, want %s at %d", i, e.ID, e.Position, id, i+1)
			}
		}
		return nil
	})
}
