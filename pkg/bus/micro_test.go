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
	"uneventful.dev/uneventful/pkg/queue"
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
	var stats micro.Stats
	requestJSON(t, nc, "$SRV.STATS.wallet_writer."+ping.ID, &stats)
	if stats.Type != micro.StatsResponseType || len(stats.Endpoints) != 2 {
		t.Fatalf("$SRV.STATS: %+v", stats)
	}
	cmd := stats.Endpoints[0]
	if cmd.Name != command.KindCommand || cmd.NumRequests < 2 || cmd.NumErrors < 1 || cmd.LastError == "" || cmd.ProcessingTime <= 0 {
		t.Fatalf("$SRV.STATS command endpoint: %+v, want 2 requests, 1 error", cmd)
	}
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
