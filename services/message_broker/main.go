// Command message_broker runs an embedded NATS server with JetStream: the
// stack's broker when it runs as local processes. Its health is the NATS
// monitoring endpoint GET /healthz on NATS_HTTP_PORT.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", "message_broker")

	cfg, err := configFromEnv(os.LookupEnv)
	if err != nil {
		logger.Error("invalid configuration", "err", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()

	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("message_broker failed", "err", err)
		os.Exit(1)
	}
}
