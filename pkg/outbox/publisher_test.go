package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/outbox"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestPublisherSendsEveryCommittedEventOnceInOrder: events left unpublished by an earlier
// run go first, then handed-over batches, and a gap in the hand-over is filled from the
// log; JetStream ends with every event once, in log order, and an idle publisher does not
// read the log.
func TestPublisherSendsEveryCommittedEventOnceInOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	nc := stacktest.Connect(t, stacktest.NATS(t))
	p, err := outbox.New(store, nc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var want []string // event ids in log order
	commit := func(n int, handOver bool) {
		t.Helper()
		rows := make([]sqlite.Row, n)
		var msgs []outbox.Message
		for i := range rows {
			id := fmt.Sprintf("ev%03d", len(want)+1)
			stream := fmt.Sprintf("wallet.w%d", len(want)%3)
			env, _ := json.Marshal(event.Envelope{ID: id, Stream: stream, Version: int64(len(want) + 1), Type: "credited", Data: json.RawMessage(`{}`)})
			rows[i] = sqlite.Row{Stream: stream, Version: int64(len(want) + 1), CommandID: "c" + id, Command: "credit", Data: json.RawMessage(`{}`),
				Outcome: sqlite.Accepted, Events: json.RawMessage("[" + string(env) + "]"), Result: json.RawMessage(`{}`), Time: time.Now()}
			msgs = append(msgs, outbox.Message{ID: id, Stream: stream, JSON: env})
			want = append(want, id)
		}
		if err := store.Append(ctx, rows, nil, 0); err != nil {
			t.Fatal(err)
		}
		for i := range msgs {
			msgs[i].Seq = rows[i].Seq
		}
		if handOver {
			p.Committed(rows[0].Seq, rows[n-1].Seq, msgs)
		}
	}
	published := func(upTo int64) {
		t.Helper()
		stacktest.Eventually(t, 10*time.Second, func() error {
			if got := p.Published(); got != upTo {
				return fmt.Errorf("published up to %d, want %d", got, upTo)
			}
			return nil
		})
	}

	commit(3, false) // left by an earlier run: cursor 0
	go p.Run(ctx)    //nolint:errcheck // ends with ctx
	published(3)
	commit(2, true)
	published(5)
	reads := p.LogReads()
	commit(4, true)
	published(9)
	commit(2, true)
	published(11)
	if got := p.LogReads(); got != reads {
		t.Errorf("the publisher read the log %d times while every batch was handed over", got-reads)
	}
	commit(2, false) // not handed over (as when the queue overflowed)
	commit(1, true)
	published(14)

	js, _ := jetstream.New(nc)
	cons, err := js.OrderedConsumer(ctx, event.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, m.Headers().Get("Nats-Msg-Id"))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("JetStream holds %v, want %v", got, want)
	}
}
