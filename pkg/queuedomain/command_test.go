package queuedomain_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
	"uneventful.dev/uneventful/pkg/stacktest"
)

const commandConfig = `
domain: C
queues: [{name: credits}, {name: credited}]
forward:
  services:
    - {source: credits, target: {command: wallet.credit}, reply: {queue: credited}}
`

// A domain command is a service too: a forward sends queue messages to the wallet's
// writer as credit commands (properties = wallet id, payload = data, message id =
// idempotency key) and enqueues the new state; a refused command rolls back.
func TestForwardToADomainCommand(t *testing.T) {
	s := stacktest.Start(t)
	cfg, err := queue.ParseConfig([]byte(commandConfig))
	if err != nil {
		t.Fatal(err)
	}
	stacktest.QueueDomain(t, queuedomain.Config{Queues: cfg, NATSURL: s.NATS.ClientURL()})
	ctx := context.Background()

	nc := connectURL(t, s.NATS.ClientURL())
	c := queue.NewClient(nc)
	stacktest.Eventually(t, 10*time.Second, func() error { _, err := c.Browse(ctx, "credits"); return err })
	id := event.NewID()
	mid, err := c.Enqueue(ctx, "credits", queue.Message{Properties: id, Payload: []byte(`{"amount": 5}`)}, queue.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Enqueue(ctx, "credits", queue.Message{Properties: id, Payload: []byte(`{"amount": -1}`)}, queue.EnqueueOptions{}) //nolint:errcheck
	var ms []queue.Browsed
	stacktest.Eventually(t, 10*time.Second, func() error {
		ms, _ = c.Browse(ctx, "credited")
		errs, _ := c.Browse(ctx, "credits.error")
		if len(ms) != 1 || len(errs) != 1 {
			return stacktest.Errorf("credited %d, credits.error %d", len(ms), len(errs))
		}
		return nil
	})
	var state struct {
		Balance string `json:"balance"`
		Version int64  `json:"version"`
	}
	if err := json.Unmarshal(ms[0].Payload, &state); err != nil || state.Balance != "5.00" || state.Version != 1 || ms[0].Properties != id {
		t.Fatalf("reply %s: %+v, %v", ms[0].Payload, state, err)
	}
	// The message id was the idempotency key: sending it again changes nothing.
	rep, err := command.NewClient(nc, "wallet", 0, 0).Send(ctx, command.Request{Kind: command.KindCommand, Entity: id,
		CommandID: event.NewID(), Command: "credit", Data: []byte(`{"amount": 5}`), IdempotencyKey: "queue/" + mid})
	if err != nil || rep.Version != 1 {
		t.Fatalf("replayed command: version %d, %v", rep.Version, err)
	}
	if _, err := queue.ParseConfig([]byte("domain: X\nqueues: [{name: q}]\nforward: {services: [{source: q, target: {command: credit}}]}")); err == nil {
		t.Fatal("a command without its domain was accepted")
	}
}
