package bus_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// The writer is a NATS micro service to the standard tooling: $SRV.PING, INFO and STATS
// (for all services, by name, by name and id) in micro's shapes, its requests counted,
// and a failed reply carries the micro error headers.
func TestWriterAnswersTheNATSServiceAPI(t *testing.T) {
	_, nc, b := stackBus(t)
	ctx := context.Background()
	id := event.NewID()
	if _, err := b.Call(ctx, "wallet."+id, "credit", []byte(`{"amount": 5}`)); err != nil {
		t.Fatal(err)
	}

	// A raw request, as `nats req command.wallet.all` sends it: the refusal in the headers.
	req, _ := json.Marshal([]command.Request{{Kind: command.KindCommand, Entity: id, CommandID: event.NewID(), Command: "debit", Data: []byte(`{"amount": 50}`)}})
	resp, err := nc.Request("command.wallet.all", req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, code := resp.Header.Get(micro.ErrorHeader), resp.Header.Get(micro.ErrorCodeHeader); got != "insufficient_funds: balance 5.00 is less than 50.00" || code != "422" {
		t.Fatalf("error headers %q, code %q", got, code)
	}

	var ping micro.Ping
	everyone := gatherOne(t, nc, "$SRV.PING", func(b []byte) bool {
		return json.Unmarshal(b, &ping) == nil && ping.Name == "wallet_writer"
	})
	if !everyone || ping.Type != micro.PingResponseType || ping.ID == "" || ping.Version == "" {
		t.Fatalf("$SRV.PING: %+v", ping)
	}
	for _, subject := range []string{"$SRV.PING.wallet_writer", "$SRV.PING.wallet_writer." + ping.ID} {
		var p micro.Ping
		requestJSON(t, nc, subject, &p)
		if p.ID != ping.ID || p.Type != micro.PingResponseType {
			t.Fatalf("%s: %+v", subject, p)
		}
	}
	var info micro.Info
	requestJSON(t, nc, "$SRV.INFO.wallet_writer", &info)
	if info.Type != micro.InfoResponseType || len(info.Endpoints) != 2 || info.Endpoints[0].Subject != "command.wallet.*" || info.Endpoints[1].Subject != "load.wallet.*" {
		t.Fatalf("$SRV.INFO: %+v", info)
	}
	awaitStats(t, nc, "$SRV.STATS.wallet_writer."+ping.ID, func(stats micro.Stats) error {
		if stats.Type != micro.StatsResponseType || len(stats.Endpoints) != 2 {
			return stacktest.Errorf("$SRV.STATS: %+v", stats)
		}
		cmd := stats.Endpoints[0]
		if cmd.Name != command.KindCommand || cmd.NumRequests < 2 || cmd.NumErrors < 1 || cmd.LastError == "" || cmd.ProcessingTime <= 0 {
			return stacktest.Errorf("$SRV.STATS command endpoint: %+v, want 2 requests, 1 error", cmd)
		}
		return nil
	})
}

// awaitStats waits until the $SRV.STATS answer of subject satisfies ok. micro counts a
// request once its handler has returned, which is after the reply went out: a caller
// that has its reply can ask before the count includes it.
func awaitStats(t *testing.T, nc *nats.Conn, subject string, ok func(micro.Stats) error) {
	t.Helper()
	stacktest.Eventually(t, 10*time.Second, func() error {
		var stats micro.Stats
		m, err := nc.Request(subject, nil, 5*time.Second)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(m.Data, &stats); err != nil {
			return stacktest.Errorf("%s: %s: %v", subject, m.Data, err)
		}
		return ok(stats)
	})
}

func requestJSON(t *testing.T, nc *nats.Conn, subject string, v any) {
	t.Helper()
	m, err := nc.Request(subject, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("%s: %s: %v", subject, m.Data, err)
	}
}

// gatherOne asks subject of everyone listening and reports whether an answer satisfied ok.
func gatherOne(t *testing.T, nc *nats.Conn, subject string, ok func([]byte) bool) bool {
	t.Helper()
	found := false
	err := queue.Gather(context.Background(), nc, subject, 2*time.Second, func(b []byte) error {
		if !found && ok(b) {
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A named service (forward.Serve) answers the NATS service API too, its calls counted.
func TestServiceAnswersTheNATSServiceAPI(t *testing.T) {
	_, nc, b := stackBus(t)
	s, err := forward.Serve(nc, "test", "echo", forward.Examples["echo"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	rb, err := forward.Serve(nc, "test", "rollback", forward.Examples["rollback"])
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Stop()
	for range 3 {
		if _, err := b.Call(context.Background(), "service.echo", "", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	var ping micro.Ping
	requestJSON(t, nc, "$SRV.PING.echo", &ping)
	if ping.Name != "echo" || ping.Type != micro.PingResponseType || ping.Metadata["domain"] != "test" {
		t.Fatalf("$SRV.PING.echo: %+v", ping)
	}
	var info micro.Info
	requestJSON(t, nc, "$SRV.INFO.echo", &info)
	if len(info.Endpoints) != 1 || info.Endpoints[0].Subject != forward.ServiceSubject("echo") || info.Endpoints[0].QueueGroup != "service" {
		t.Fatalf("$SRV.INFO.echo: %+v", info)
	}
	awaitStats(t, nc, "$SRV.STATS.echo."+ping.ID, func(stats micro.Stats) error {
		if len(stats.Endpoints) != 1 || stats.Endpoints[0].NumRequests != 3 || stats.Endpoints[0].NumErrors != 0 {
			return stacktest.Errorf("$SRV.STATS.echo: %+v", stats.Endpoints)
		}
		return nil
	})
	if _, err := b.Call(context.Background(), "service.rollback", "", nil); err == nil {
		t.Fatal("rollback succeeded")
	}
	awaitStats(t, nc, "$SRV.STATS.rollback", func(stats micro.Stats) error {
		if len(stats.Endpoints) != 1 {
			return stacktest.Errorf("$SRV.STATS.rollback: %+v", stats)
		}
		if e := stats.Endpoints[0]; e.NumRequests != 1 || e.NumErrors != 1 || e.LastError == "" {
			return stacktest.Errorf("$SRV.STATS.rollback: %+v", e)
		}
		return nil
	})
}
