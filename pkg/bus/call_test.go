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
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/forward"
)

// A domain command to an entity goes to its writer and returns the new state; an
// idempotent retry returns the first result.
func TestCallCreditsAWallet(t *testing.T) {
	_, _, b := stackBus(t)
	ctx := context.Background()
	id := event.NewID()
	for range 2 {
		rep, err := b.Call(ctx, "wallet."+id, "credit", []byte(`{"amount": 5}`), bus.Key("k1"))
		if err != nil {
			t.Fatal(err)
		}
		if s := decodeState(t, rep); s.ID != id || s.Version != 1 || s.Balance != "5.00" {
			t.Fatalf("state %+v, want version 1, balance 5.00", s)
		}
	}
	rep, err := b.Call(ctx, "wallet."+id, "debit", []byte(`{"amount": 1.5}`), bus.IfVersion(1))
	if err != nil {
		t.Fatal(err)
	}
	if s := decodeState(t, rep); s.Version != 2 || s.Balance != "3.50" {
		t.Fatalf("state %+v, want version 2, balance 3.50", s)
	}
}

// The domain's refusals are typed failures; they are not errors of the infrastructure.
func TestCallFailuresAreTyped(t *testing.T) {
	_, _, b := stackBus(t)
	ctx := context.Background()
	id := event.NewID()
	tests := []struct {
		name, cmd, payload string
		opts               []bus.CallOption
		typ                string
		kind               failure.Kind
	}{
		{"insufficient funds", "debit", `{"amount": 10}`, nil, "insufficient_funds", failure.Rejected},
		{"version mismatch", "credit", `{"amount": 1}`, []bus.CallOption{bus.IfVersion(7)}, "version_mismatch", failure.PreconditionFailed},
		{"bad amount", "credit", `{"amount": -1}`, nil, "invalid_amount", failure.Invalid},
		{"unknown command", "frobnicate", `{"amount": 1}`, nil, "unknown_command", failure.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Call(ctx, "wallet."+id, tc.cmd, []byte(tc.payload), tc.opts...)
			if !bus.IsFailure(err) || bus.FailureType(err) != tc.typ || !errors.Is(err, tc.kind) {
				t.Fatalf("err %v (failure %v, type %q), want a %s failure %s", err, bus.IsFailure(err), bus.FailureType(err), tc.kind, tc.typ)
			}
			var f *bus.Failure
			if errors.As(err, &f); f.Message == "" {
				t.Fatalf("failure %+v has no message", f)
			}
		})
	}
	if _, err := b.Call(ctx, "wallet", "credit", nil); !errors.Is(err, bus.ErrInvalidTarget) || bus.IsFailure(err) {
		t.Fatalf("target without id: %v, want ErrInvalidTarget (not a failure)", err)
	}
}

// Nobody serving a target is answered at once, distinct from a timeout, which comes at
// the deadline; neither is a failure.
func TestNoRespondersIsImmediateTimeoutIsNot(t *testing.T) {
	_, nc, b := stackBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, target := range []string{"nowhere." + event.NewID(), "service.nobody", "queue.nobody"} {
		start := time.Now()
		_, err := b.Call(ctx, target, "x", []byte(`{}`))
		if !errors.Is(err, bus.ErrNoResponders) || errors.Is(err, failure.Timeout) || bus.IsFailure(err) {
			t.Fatalf("%s: %v, want ErrNoResponders", target, err)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: answered after %s, at the deadline", target, time.Since(start))
		}
	}

	// A call whose deadline passed before its request left is not sent at all: that is
	// a timeout too, but it proves nothing of the header, so such a call is made again.
	requests := silentService(t, nc, "silent")
	deadlines := map[string]bool{} // the deadline headers of the calls made
	for attempt := 1; ; attempt++ {
		short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		dl, _ := short.Deadline()
		deadlines[dl.UTC().Format(time.RFC3339Nano)] = true
		_, err := b.Call(short, "service.silent", "x", nil)
		cancel()
		if !errors.Is(err, failure.Timeout) || errors.Is(err, bus.ErrNoResponders) || bus.IsFailure(err) {
			t.Fatalf("silent service: %v, want a timeout", err)
		}
		if time.Now().Before(dl) {
			t.Fatalf("timed out before the deadline")
		}
		if err := nc.Flush(); err != nil { // a request sent has reached the service's queue
			t.Fatal(err)
		}
		select {
		case m := <-requests:
			if got := m.Header.Get(bus.DeadlineHeader); !deadlines[got] {
				t.Fatalf("deadline header %q, want one of the calls' deadlines %v", got, deadlines)
			}
			return
		case <-time.After(5 * time.Second): // only a call never sent gets here
			if attempt == 5 {
				t.Fatal("5 calls to the silent service: none of their requests reached it")
			}
		}
	}
}

// Without a deadline in the context a call gets DefaultTimeout, and that deadline travels
// in the request (command.Request.Deadline) to the writer.
func TestDefaultTimeoutTravelsInTheRequest(t *testing.T) {
	_, nc, b := stackBus(t)
	got := make(chan []command.Request, 1)
	sub, err := nc.Subscribe("command.probe.*", func(m *nats.Msg) { // a writer that never answers
		var reqs []command.Request
		json.Unmarshal(m.Data, &reqs) //nolint:errcheck // checked below
		got <- reqs
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck
	start := time.Now()
	_, err = b.Call(context.Background(), "probe."+event.NewID(), "x", []byte(`{}`))
	end := time.Now()
	if !errors.Is(err, failure.Timeout) {
		t.Fatalf("%v, want a timeout", err)
	}
	if end.Sub(start) < bus.DefaultTimeout {
		t.Fatalf("timed out after %s, before the default %s", end.Sub(start), bus.DefaultTimeout)
	}
	reqs := <-got
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	dl := time.Unix(0, reqs[0].Deadline)
	if dl.Before(start.Add(bus.DefaultTimeout)) || dl.After(end) {
		t.Fatalf("request deadline %s, want start + %s (%s) at the earliest and before the call ended (%s)", dl, bus.DefaultTimeout, start.Add(bus.DefaultTimeout), end)
	}
}

// Named services: the reply, a failure from the micro error header, and the calls shared
// between the instances (a NATS queue group).
func TestCallService(t *testing.T) {
	_, nc, b := stackBus(t)
	ctx := context.Background()
	var calls [2]atomic.Int64
	for i := range calls {
		s, err := forward.Serve(nc, "test", "echo", func(_ context.Context, p []byte, h nats.Header) ([]byte, error) {
			calls[i].Add(1)
			return append([]byte(h.Get(bus.CommandHeader)+" "), p...), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop()
	}
	rb, err := forward.Serve(nc, "test", "rollback", forward.Examples["rollback"])
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Stop()
	for range 40 {
		rep, err := b.Call(ctx, "service.echo", "shout", []byte("hi"))
		if err != nil || string(rep) != "shout hi" {
			t.Fatalf("echo: %q, %v", rep, err)
		}
	}
	if calls[0].Load() == 0 || calls[1].Load() == 0 {
		t.Fatalf("calls per instance %d and %d: not shared", calls[0].Load(), calls[1].Load())
	}
	_, err = b.Call(ctx, "service.rollback", "", nil)
	if !bus.IsFailure(err) || bus.FailureType(err) != "rollback" {
		t.Fatalf("rollback: %v, want the failure rollback", err)
	}
}
