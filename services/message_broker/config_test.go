package main

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// Both brokers fsync every JetStream write before acknowledging it: the embedded one of
// local mode and the nats-server of the compose stack (docker/message_broker/nats.conf).
func TestBrokersSyncEveryWriteBeforeAcknowledging(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		srv, err := start(testConfig(t), testLogger(t))
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		if !srv.JetStreamConfig().SyncAlways {
			t.Fatalf("JetStream config %+v: want SyncAlways", *srv.JetStreamConfig())
		}
	})
	t.Run("compose nats.conf", func(t *testing.T) {
		t.Setenv("NATS_USER", "u")
		t.Setenv("NATS_PASSWORD", "p")
		opts, err := server.ProcessConfigFile("../../docker/message_broker/nats.conf")
		if err != nil {
			t.Fatalf("nats.conf: %v", err)
		}
		if !opts.JetStream || !opts.SyncAlways {
			t.Fatalf("nats.conf: JetStream=%v SyncAlways=%v, want both", opts.JetStream, opts.SyncAlways)
		}
	})
}
