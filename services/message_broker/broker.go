package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nats-server/v2/server"

	"uneventful.dev/uneventful/pkg/natsembed"
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
	natsembed.Stop(srv)
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
	return natsembed.Start(&server.Options{
		ServerName: "message_broker",
		Host:       cfg.Host,
		Port:       cfg.Port,
		HTTPHost:   cfg.Host,
		HTTPPort:   cfg.HTTPPort,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		SyncAlways: syncAlways,
		Debug:      cfg.Debug,
	}, logger.With("component", "nats"), cfg.ReadyTimeout)
}
