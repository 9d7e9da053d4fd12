package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/bus"
	"uneventful.dev/uneventful/pkg/event"
)

type outcome struct {
	reply json.RawMessage
	err   error
}

// CallAsync returns before the reply exists, and its handler gets the reply.
func TestCallAsyncReturnsAtOnceThenHandles(t *testing.T) {
	_, nc, b := stackBus(t)
	requests := silentService(t, nc, "held") // answered below, once CallAsync has returned
	got := make(chan outcome, 2)
	err := b.CallAsync(context.Background(), "service.held", "", []byte("ping"), func(r json.RawMessage, err error) { got <- outcome{r, err} })
	if err != nil {
		t.Fatal(err)
	}
	m := <-requests // CallAsync returned while the service holds the request
	if err := m.Respond([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if o := <-got; o.err != nil || string(o.reply) != "pong" {
		t.Fatalf("handler got %q, %v", o.reply, o.err)
	}

	// An entity command's failure reaches the handler typed.
	err = b.CallAsync(context.Background(), "wallet."+event.NewID(), "debit", []byte(`{"amount": 1}`), func(r json.RawMessage, err error) { got <- outcome{r, err} })
	if err != nil {
		t.Fatal(err)
	}
	if o := <-got; bus.FailureType(o.err) != "insufficient_funds" {
		t.Fatalf("handler got %q, %v; want insufficient_funds", o.reply, o.err)
	}
	if err := b.CallAsync(context.Background(), "nodot", "x", nil, func(json.RawMessage, error) {}); !errors.Is(err, bus.ErrInvalidTarget) {
		t.Fatalf("invalid target: %v", err)
	}
}

// A reply that comes after the deadline, a timeout and a canceled call never reach the
// handler.
func TestCallAsyncHandlerNeverAfterTheDeadline(t *testing.T) {
	_, nc, b := stackBus(t)
	var called atomic.Int64
	ended := make(chan struct{}, 4)
	bus.OnAsyncDone(b, func() { ended <- struct{}{} })
	h := func(json.RawMessage, error) { called.Add(1) }

	// A service that answers once the call's deadline (in its header) has passed.
	late, err := nc.QueueSubscribe("uneventful.service.late", "service", func(m *nats.Msg) {
		dl, _ := time.Parse(time.RFC3339Nano, m.Header.Get(bus.DeadlineHeader))
		<-time.After(time.Until(dl) + 20*time.Millisecond)
		m.Respond([]byte("too late")) //nolint:errcheck
	})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Unsubscribe() //nolint:errcheck
	silentService(t, nc, "silent")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for _, target := range []string{"service.late", "service.silent"} {
		if err := b.CallAsync(ctx, target, "", nil, h); err != nil {
			t.Fatal(err)
		}
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	if err := b.CallAsync(canceled, "service.silent", "", nil, h); err != nil {
		t.Fatal(err)
	}
	cancelNow()
	for range 3 {
		<-ended
	}
	if n := called.Load(); n != 0 {
		t.Fatalf("the handler was called %d times after the deadline or the cancel", n)
	}
}
