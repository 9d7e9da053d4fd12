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
// become none; a restarted notifier enqueues nothing twice. The message keeps the
// command's correlation id.
func TestWalletDebitNotifiesAQueue(t *testing.T) {
	s := stacktest.Start(t)
	cfg, err := queue.ParseConfig([]byte(notifyConfig))
	if err != nil {
		t.Fatal(err)
	}
	run := func() (stop func()) {
		_, stop = stacktest.QueueDomain(t, queuedomain.Config{Queues: cfg, NATSURL: s.NATS.ClientURL()})
		return stop
	}
	stop := run()
	id := event.NewID()
	post := func(cmd, amount string) int { // each command its own correlation id, say "debit-4"
		req, err := http.NewRequest(http.MethodPost, s.URL+"/wallet/"+id+"/"+cmd, strings.NewReader(`{"amount": `+amount+`}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Correlation-Id", cmd+"-"+amount)
		resp, err := http.DefaultClient.Do(req)
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
	if err := json.Unmarshal(ms[0].Payload, &env); err != nil || env.Type != "debited" || env.Stream != "wallet."+id || ms[0].Properties != env.Stream ||
		env.CorrelationID != "debit-4" || ms[0].CorrelationID != "debit-4" { // the command's work item goes on in the queue
		t.Fatalf("message: %+v, envelope %+v, %v", ms[0], env, err)
	}
	stop()
	stop = run()
	defer stop()
	// Two more debits after the restart; the last one is the sentinel: events become
	// messages in stream order, so a duplicate of the first debit would be queued before it.
	if post("debit", "1") != 200 || post("debit", "2") != 200 {
		t.Fatal("debits after the restart refused")
	}
	stacktest.Eventually(t, 10*time.Second, func() error {
		ms, err = c.Browse(context.Background(), "debits")
		if err != nil || len(ms) == 0 {
			return stacktest.Errorf("debits: %d messages, %v", len(ms), err)
		}
		var last event.Envelope
		if err := json.Unmarshal(ms[len(ms)-1].Payload, &last); err != nil || last.Version != 4 {
			return stacktest.Errorf("the sentinel debit (version 4) is not queued yet: last %+v, %v", last, err)
		}
		return nil
	})
	seen := map[int64]bool{}
	for _, m := range ms {
		var env event.Envelope
		if err := json.Unmarshal(m.Payload, &env); err != nil || seen[env.Version] {
			t.Fatalf("message %s: envelope %+v queued twice or unreadable (%v)", m.ID, env, err)
		}
		seen[env.Version] = true
	}
	if len(ms) != 3 {
		t.Fatalf("%d messages after a restart, want 3 (debits at versions 2, 3 and 4)", len(ms))
	}
}
