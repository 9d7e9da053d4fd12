package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/outbox"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestConsumeAfterACrashBetweenFetchAndAck: a history writer stored e1..e2, fetched e3
// and e4, and died before acknowledging them. The next one must store e3 and e4 too (in
// order, before e5..), not fetch past them and acknowledge them with its first AckAll.
func TestConsumeAfterACrashBetweenFetchAndAck(t *testing.T) {
	ctx := context.Background()
	ns := stacktest.NATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.EnsureStream(ctx, js); err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		for _, e := range evs(from, to) {
			b, _ := json.Marshal(e)
			if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: event.Subject(e.Stream), Data: b, Header: nats.Header{nats.MsgIdHdr: []string{e.ID}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(1, 10)
	store := openHistory(t)
	if _, err := store.Append(ctx, evs(1, 2)); err != nil {
		t.Fatal(err)
	}
	// The dead writer's consumer: e1..e2 acknowledged, e3..e4 delivered, not acknowledged.
	cons, err := js.CreateOrUpdateConsumer(ctx, event.StreamName, jetstream.ConsumerConfig{Durable: history.ConsumerName,
		AckPolicy: jetstream.AckAllPolicy, AckWait: 30 * time.Second, MaxAckPending: 20000})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(4)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 4 {
		t.Fatalf("fetched %d, want 4", len(msgs))
	}
	if err := msgs[1].DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	publish(11, 12)

	// Twice: the second start finds the consumer the first one recreated.
	for run, last := range []int{12, 13} {
		if run == 1 {
			publish(13, 13)
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- history.Consume(cctx, nc, store, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
		stacktest.Eventually(t, 10*time.Second, func() error {
			got, _, err := store.After(ctx, 0, 100)
			if err != nil {
				return err
			}
			var ids, want []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			for i := 1; i <= last; i++ {
				want = append(want, fmt.Sprintf("e%d", i))
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) {
				return fmt.Errorf("run %d: history holds %v, want %v", run, ids, want)
			}
			return nil
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
