package natsembed_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/natsembed"
)

// A started server takes connections with JetStream on.
func TestStart(t *testing.T) {
	s, err := natsembed.Start(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir()}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer natsembed.Stop(s)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(); err != nil {
		t.Fatalf("JetStream: %v", err)
	}
}

// A server that cannot start (its port is taken) is an error at once, not a wait for
// the timeout, and nothing is left running.
func TestStartFailure(t *testing.T) {
	first, err := natsembed.Start(&server.Options{Host: "127.0.0.1", Port: -1}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer natsembed.Stop(first)
	began := time.Now()
	port := first.Addr().(*net.TCPAddr).Port
	_, err = natsembed.Start(&server.Options{Host: "127.0.0.1", Port: port}, nil, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "failed to start") {
		t.Fatalf("second server on a taken port: %v", err)
	}
	if d := time.Since(began); d > 30*time.Second {
		t.Fatalf("the failure took %s: the start waited for its timeout", d)
	}
}
