package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	return Config{Host: "127.0.0.1", Port: -1, HTTPPort: -1, StoreDir: t.TempDir(), ReadyTimeout: 10 * time.Second}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewJSONHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestStartServesClientsJetStreamAndHealth(t *testing.T) {
	srv, err := start(testConfig(t), testLogger(t))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("jetstream account info: %v", err)
	}

	resp, err := http.Get("http://" + srv.MonitorAddr().String() + "/healthz")
	if err != nil {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz status = %d, want 200", resp.StatusCode)
	}
}

func TestStartFailsFastWhenPortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t)
	cfg.Port = ln.Addr().(*net.TCPAddr).Port

	began := time.Now()
	if srv, err := start(cfg, testLogger(t)); err == nil {
		srv.Shutdown()
		t.Fatal("start succeeded on a taken port")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("start took %s to fail, want well under the ready timeout", d)
	}
}

func TestRunShutsDownWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, testConfig(t), testLogger(t)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(Config) bool
		wantErr bool
	}{
		{
			name: "defaults",
			env:  nil,
			want: func(c Config) bool {
				return c.Host == "127.0.0.1" && c.Port == 4222 && c.HTTPPort == 8222 && c.StoreDir == "./data/nats" && !c.Debug
			},
		},
		{
			name: "overrides",
			env:  map[string]string{"NATS_HOST": "0.0.0.0", "NATS_PORT": "4333", "NATS_HTTP_PORT": "8333", "NATS_STORE_DIR": "/tmp/js", "NATS_DEBUG": "true"},
			want: func(c Config) bool {
				return c.Host == "0.0.0.0" && c.Port == 4333 && c.HTTPPort == 8333 && c.StoreDir == "/tmp/js" && c.Debug
			},
		},
		{name: "port not a number", env: map[string]string{"NATS_PORT": "x"}, wantErr: true},
		{name: "port out of range", env: map[string]string{"NATS_PORT": strconv.Itoa(70000)}, wantErr: true},
		{name: "monitoring off is refused", env: map[string]string{"NATS_HTTP_PORT": "0"}, wantErr: true},
		{name: "debug not a bool", env: map[string]string{"NATS_DEBUG": "loud"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := configFromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %+v", cfg)
				}
				return
			}
			if err != nil {
				t.Fatalf("configFromEnv: %v", err)
			}
			if !tt.want(cfg) {
				t.Fatalf("unexpected config %+v", cfg)
			}
		})
	}
}
