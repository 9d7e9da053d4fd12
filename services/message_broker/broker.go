package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// run starts the broker and serves until ctx ends, then shuts it down.
func run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	srv, err := start(cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("message_broker ready",
		"client_url", srv.ClientURL(), "monitor_addr", srv.MonitorAddr().String(), "store_dir", cfg.StoreDir)

	<-ctx.Done()
	logger.Info("message_broker shutting down")
	srv.Shutdown()
	srv.WaitForShutdown()
	logger.Info("message_broker stopped")
	return nil
}

// start launches a JetStream-enabled NATS server and returns once it
// accepts connections. On error nothing is left running.
func start(cfg Config, logger *slog.Logger) (*server.Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "message_broker",
		Host:       cfg.Host,
		Port:       cfg.Port,
		HTTPHost:   cfg.Host,
		HTTPPort:   cfg.HTTPPort,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		SyncAlways: syncAlways,
		NoSigs:     true, // main owns the signals
	})
	if err != nil {
		return nil, fmt.Errorf("configure nats server: %w", err)
	}
	nl := newNATSLogger(logger.With("component", "nats"))
	srv.SetLoggerV2(nl, cfg.Debug, false, false)
	srv.Start()

	if err := waitReady(srv, nl, cfg.ReadyTimeout); err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, err
	}
	return srv, nil
}

// waitReady polls until srv accepts connections with JetStream on, the
// server reports a fatal error, or timeout passes.
func waitReady(srv *server.Server, nl *natsLogger, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if msg, failed := nl.fatal(); failed {
			return fmt.Errorf("nats server failed to start: %s", msg)
		}
		if srv.ReadyForConnections(100 * time.Millisecond) {
			if !srv.JetStreamEnabled() {
				return errors.New("nats server started without JetStream")
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nats server not ready after %s", timeout)
		}
	}
}
