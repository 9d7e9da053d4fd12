package command_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// sendMany sends a command to each of n entities at once and returns the replies' states.
func sendMany(t *testing.T, c *command.Client, n int) []routed {
	t.Helper()
	out := make([]routed, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := c.Send(context.Background(), command.Request{Kind: command.KindCommand, Entity: fmt.Sprint("entity-", i)})
			if err != nil {
				t.Errorf("entity-%d: %v", i, err)
				return
			}
			if err := json.Unmarshal(rep.State, &out[i]); err != nil {
				t.Errorf("entity-%d: reply %s: %v", i, rep.State, err)
			}
			if out[i].ID != fmt.Sprint("entity-", i) {
				t.Errorf("entity-%d got the reply of %q", i, out[i].ID)
			}
		}()
	}
	wg.Wait()
	return out
}

// A writer owning every partition (subscribed to kind.domain.*) gets requests to all
// partitions on the all subject, in shared messages. The writer holds its answers until
// every request is sent or queued: how many messages the first wave takes (one to
// LaneMaxInFlight) depends on scheduling; the queued requests then share one message.
func TestClientSendsToTheAllSubjectWhenOneWriterOwnsEveryPartition(t *testing.T) {
	nc := stacktest.Connect(t, stacktest.NATS(t))
	gate := make(chan struct{})
	received := echoWriter(t, nc, "command.echo.*", gate)
	c := command.NewClient(nc, "echo", 16, 5*time.Second)
	go func() {
		defer close(gate) // the writer answers whatever happens here
		all := "command.echo." + command.AllPartitions
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			sent := 0
			for _, n := range sizes(received()) {
				sent += n
			}
			if sent+c.Waiting(all) == 100 {
				return // every request is in a message or queued behind them
			}
			if time.Now().After(deadline) {
				t.Errorf("after 2s %d requests sent and %d waiting, want 100", sent, c.Waiting(all))
				return
			}
		}
	}()
	for _, r := range sendMany(t, c, 100) {
		if r.Subject != "command.echo."+command.AllPartitions {
			t.Fatalf("%s came on %s, want the all subject", r.ID, r.Subject)
		}
	}
	if got := received(); len(got) > command.LaneMaxInFlight+2 {
		t.Fatalf("100 requests to 16 partitions took %d messages: they should share one lane", len(got))
	}
}

// Writers owning some partitions each do not take the all subject: every request reaches
// the writer of its partition, and none is lost or answered twice on the way.
func TestClientSendsToPartitionSubjectsWhenWritersOwnSomePartitions(t *testing.T) {
	nc := stacktest.Connect(t, stacktest.NATS(t))
	const partitions = 4
	for p := range partitions {
		echoWriter(t, nc, "command.echo."+strconv.Itoa(p), nil)
	}
	c := command.NewClient(nc, "echo", partitions, 5*time.Second)
	for round := range 2 { // the second round no longer tries the all subject first
		for _, r := range sendMany(t, c, 50) {
			if want := command.Subject(command.KindCommand, "echo", r.ID, partitions); r.Subject != want {
				t.Fatalf("round %d: %s answered from %s, want %s", round, r.ID, r.Subject, want)
			}
		}
	}
}
