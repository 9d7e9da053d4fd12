package forward_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// A service called for a message gets the message's correlation id and, as the call's
// cause, the id of the message's dequeued event; the reply stays in the work item.
func TestAServiceCallCarriesTheCorrelationID(t *testing.T) {
	s := stacktest.NATS(t)
	nc := stacktest.Connect(t, s)
	calls := make(chan nats.Header, 1)
	serve(t, nc, "upper", func(_ context.Context, p []byte, h nats.Header) ([]byte, error) {
		calls <- h
		return p, nil
	})
	run(t, s, config, false)
	c := queue.NewClient(nc)
	ctx := context.Background()
	if _, err := c.Enqueue(ctx, "in", queue.Message{Payload: []byte("hi")}, queue.EnqueueOptions{CorrelationID: "item-7"}); err != nil {
		t.Fatal(err)
	}
	var h nats.Header
	select {
	case h = <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("the service was not called within 10 s")
	}
	if h.Get(forward.CorrelationHeader) != "item-7" || len(h.Get(forward.CausationHeader)) != 27 {
		t.Fatalf("call headers: %v", h)
	}
	stacktest.Eventually(t, 5*time.Second, func() error {
		if ms := browse(t, c, "out"); len(ms) != 1 || ms[0].CorrelationID != "item-7" {
			return stacktest.Errorf("out: %+v", ms)
		}
		return nil
	})
}
