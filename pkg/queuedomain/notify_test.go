package queuedomain_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
	"uneventful.dev/uneventful/pkg/stacktest"
)

const notifyConfig = `
domain: N
queues: [{name: debits}]
notify:
  - {stream: wallet, type: debited, queue: debits}
`

// Transactional enqueue: a wallet debit, committed with its events and published by the
// outbox, becomes exactly one message in the debits queue; a refused debit and a credit
// become none; a restarted notifier enqueues nothing twice.
func TestWalletDebitNotifiesAQueue(t *testing.T) {
	s := stacktest.Start(t)
	cfg, err := queue.ParseConfig([]byte(notifyConfig))
	if err != nil {
		t.Fatal(err)
	}
	run := func() (stop func()) {
		d, err := queuedomain.Start(queuedomain.Config{Queues: cfg, NATSURL: s.NATS.ClientURL()}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Run(ctx); close(done) }() //nolint:errcheck
		return func() { cancel(); <-done; d.Close() }
	}
	stop := run()
	id := event.NewID()
	post := func(cmd, amount string) int {
		resp, err := http.Post(s.URL+"/wallet/"+id+"/"+cmd, "application/json", strings.NewReader(`{"amount": `+amount+`}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if post("credit", "10") != 200 || post("debit", "4") != 200 || post("debit", "100") == 200 {
		t.Fatal("unexpected wallet answers")
	}
	c := queue.NewClient(connectURL(t, s.NATS.ClientURL()))
	var ms []queue.Browsed
	stacktest.Eventually(t, 10*time.Second, func() error {
		ms, err = c.Browse(context.Background(), "debits")
		if err != nil || len(ms) != 1 {
			return stacktest.Errorf("debits: %d messages, %v", len(ms), err)
		}
		return nil
	})
	var env event.Envelope
	if err := json.Unmarshal(ms[0].Payload, &env); err != nil || env.Type != "debited" || env.Stream != "wallet."+id || ms[0].Properties != env.Stream {
		t.Fatalf("message: %+v, envelope %+v, %v", ms[0], env, err)
	}
	stop()
	stop = run()
	defer stop()
	if post("debit", "1") != 200 {
		t.Fatal("second debit refused")
	}
	stacktest.Eventually(t, 10*time.Second, func() error {
		ms, err = c.Browse(context.Background(), "debits")
		if err != nil || len(ms) != 2 {
			return stacktest.Errorf("debits: %d messages, %v", len(ms), err)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive by now
	if ms, _ := c.Browse(context.Background(), "debits"); len(ms) != 2 {
		t.Fatalf("%d messages after a restart, want 2", len(ms))
	}
}
