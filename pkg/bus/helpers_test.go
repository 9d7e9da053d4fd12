package bus_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/bus"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// walletState is the part of a wallet's state document the tests read.
type walletState struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Balance string `json:"balance"`
}

func decodeState(t *testing.T, b []byte) walletState {
	t.Helper()
	var s walletState
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("state %s: %v", b, err)
	}
	return s
}

// stackBus starts a wallet stack and returns it with a bus on its NATS server.
func stackBus(t *testing.T) (*stacktest.Stack, *nats.Conn, *bus.Bus) {
	t.Helper()
	s := stacktest.Start(t)
	nc := stacktest.Connect(t, s.NATS)
	return s, nc, bus.New(nc, bus.Options{})
}

// startWalletQueues runs the wallet's queue domain as the stack runs it
// (config/wallet.queues.yaml: owner and forwarders) until the test ends.
func startWalletQueues(t *testing.T, s *stacktest.Stack, nc *nats.Conn) {
	t.Helper()
	cfg, err := queue.LoadConfig("../../config/wallet.queues.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stacktest.QueueDomain(t, queuedomain.Config{Queues: cfg, NATSURL: s.NATS.ClientURL()})
	q := queue.NewClient(nc)
	stacktest.Eventually(t, 15*time.Second, func() error {
		_, err := q.Browse(context.Background(), bus.CommandsQueue("wallet"))
		return err
	})
}

// silentService subscribes to a service subject and never answers; it hands each
// request's message to the returned channel.
func silentService(t *testing.T, nc *nats.Conn, name string) <-chan *nats.Msg {
	t.Helper()
	got := make(chan *nats.Msg, 16)
	sub, err := nc.QueueSubscribe("uneventful.service."+name, "service", func(m *nats.Msg) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() }) //nolint:errcheck
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return got
}
