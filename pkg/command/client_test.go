package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// message is one NATS message a fake writer received: its subject and its number of requests.
type message struct {
	subject string
	size    int
}

// routed is the state an echoWriter answers: the request's entity and the subject its
// message came on.
type routed struct {
	Subject string `json:"subject"`
	ID      string `json:"id"`
}

// echoWriter answers every message on subject with one reply per request, whose state is
// a routed. gate, if not nil, holds each message until it receives; messages are received
// meanwhile. It returns the messages it received.
func echoWriter(t *testing.T, nc *nats.Conn, subject string, gate <-chan struct{}) func() []message {
	t.Helper()
	var mu sync.Mutex
	var got []message
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var reqs []command.Request
		if err := json.Unmarshal(m.Data, &reqs); err != nil {
			t.Errorf("message is not an array of requests: %v", err)
			return
		}
		mu.Lock()
		got = append(got, message{subject: m.Subject, size: len(reqs)})
		mu.Unlock()
		go func() { // the next message is received meanwhile
			if gate != nil {
				<-gate
			}
			replies := make([]command.Reply, len(reqs))
			for i, r := range reqs {
				state, _ := json.Marshal(routed{Subject: m.Subject, ID: r.Entity})
				replies[i] = command.Reply{Version: 1, State: state}
			}
			b, _ := json.Marshal(replies)
			m.Respond(b) //nolint:errcheck
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() }) //nolint:errcheck
	return func() []message {
		mu.Lock()
		defer mu.Unlock()
		return append([]message(nil), got...)
	}
}

// sizes returns the number of requests of each message.
func sizes(msgs []message) []int {
	n := make([]int, len(msgs))
	for i, m := range msgs {
		n[i] = m.size
	}
	return n
}

// fillLane sends command.LaneMaxInFlight requests on c's one lane, which echo holds at
// its gate, and returns once echo has received them all; their errors come on the
// returned channel once the gate opens.
func fillLane(t *testing.T, c *command.Client, received func() []message) <-chan error {
	t.Helper()
	errs := make(chan error, command.LaneMaxInFlight)
	for i := range command.LaneMaxInFlight { // one at a time: each in a message of its own
		go func() {
			_, err := c.Send(context.Background(), command.Request{Kind: command.KindCommand, Entity: fmt.Sprint("first", i)})
			errs <- err
		}()
		stacktest.Eventually(t, 2*time.Second, func() error {
			if n := len(received()); n != i+1 {
				return fmt.Errorf("%d of %d first messages received", n, i+1)
			}
			return nil
		})
	}
	return errs
}

// Requests to one partition that arrive while the lane's messages are on their way go
// together in the next one, and each caller gets its own reply.
func TestClientBatchesRequestsWhileTheLaneIsFull(t *testing.T) {
	nc := stacktest.Connect(t, stacktest.NATS(t))
	gate := make(chan struct{})
	received := echoWriter(t, nc, "command.echo.*", gate)
	c := command.NewClient(nc, "echo", 1, 5*time.Second) // one partition: one lane
	first := fillLane(t, c, received)

	errs := make(chan error, 50)
	for i := range 50 {
		go func() {
			entity := fmt.Sprintf("e%d", i)
			rep, err := c.Send(context.Background(), command.Request{Kind: command.KindCommand, Entity: entity})
			var r routed
			if err == nil && (json.Unmarshal(rep.State, &r) != nil || r.ID != entity) {
				err = fmt.Errorf("%s got reply %s", entity, rep.State)
			}
			errs <- err
		}()
	}
	stacktest.Eventually(t, 2*time.Second, func() error {
		if n := c.Waiting("command.echo." + command.AllPartitions); n != 50 {
			return fmt.Errorf("%d of 50 requests queued behind the first ones", n)
		}
		return nil
	})
	close(gate)
	for range command.LaneMaxInFlight {
		if err := <-first; err != nil {
			t.Error(err)
		}
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	got := sizes(received())
	if len(got) != command.LaneMaxInFlight+1 || got[len(got)-1] != 50 {
		t.Fatalf("message sizes %v, want %d of 1, then 50: the waiting requests should share one message", got, command.LaneMaxInFlight)
	}
}

// A caller whose context ends while it waits gets a timeout at once, and its request is
// never sent.
func TestClientDropsRequestsWhoseContextEndedBeforeSending(t *testing.T) {
	nc := stacktest.Connect(t, stacktest.NATS(t))
	gate := make(chan struct{})
	received := echoWriter(t, nc, "command.echo.*", gate)
	c := command.NewClient(nc, "echo", 1, 5*time.Second)
	first := fillLane(t, c, received)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.Send(ctx, command.Request{Kind: command.KindCommand, Entity: "late"})
	if failure.KindOf(err) != failure.Timeout {
		t.Fatalf("expired request: err %v, want a timeout", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("expired request answered after %v", d)
	}
	close(gate)
	for range command.LaneMaxInFlight {
		if err := <-first; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Send(context.Background(), command.Request{Kind: command.KindCommand, Entity: "next"}); err != nil {
		t.Fatal(err)
	}
	if got := sizes(received()); len(got) != command.LaneMaxInFlight+1 || got[len(got)-1] != 1 {
		t.Fatalf("message sizes %v, want %d+1 messages of 1: the expired request must not be sent", got, command.LaneMaxInFlight)
	}
}

// A writer that cannot read a message answers one error for all of it; every caller gets it.
func TestClientWholeMessageError(t *testing.T) {
	nc := stacktest.Connect(t, stacktest.NATS(t))
	sub, err := nc.Subscribe("command.echo.*", func(m *nats.Msg) {
		m.Respond([]byte(`{"error":{"type":"invalid_request","message":"no"}}`)) //nolint:errcheck
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck
	c := command.NewClient(nc, "echo", 1, 5*time.Second)
	var wrong atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Send(context.Background(), command.Request{Kind: command.KindCommand, Entity: fmt.Sprint(i)})
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Type != "invalid_request" {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Fatalf("%d callers did not get the message's error", n)
	}
}

// No writer: every caller learns it at once, not after its deadline.
func TestClientNoWriter(t *testing.T) {
	nc := stacktest.Connect(t, stacktest.NATS(t))
	c := command.NewClient(nc, "echo", 1, 5*time.Second)
	began := time.Now()
	_, err := c.Send(context.Background(), command.Request{Kind: command.KindCommand, Entity: "a"})
	if failure.KindOf(err) != failure.Unavailable {
		t.Fatalf("err %v, want unavailable", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("answered after %v", d)
	}
}
