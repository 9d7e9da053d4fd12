// Command wallet_server serves the wallet HTTP API: reads from Redis, commands to the
// wallet writer over NATS.
//
// Environment: HTTP_ADDR (default :${HTTP_PORT:-80}), NATS_URL, REDIS_ADDR,
// REDIS_PASSWORD, PARTITIONS (16), COMMAND_TIMEOUT (5s), LOG_LEVEL.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/service"
)

func main() {
	env := service.Env(os.Getenv)
	cfg := service.ServerConfig{
		Common:         env.Common(":" + env.String("HTTP_PORT", "80")),
		Partitions:     env.Int("PARTITIONS", 0),
		CommandTimeout: env.Duration("COMMAND_TIMEOUT", 0),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := service.RunServer(ctx, cfg, wallet.Domain{}); err != nil {
		cfg.Log.Error("wallet_server failed", "err", err)
		os.Exit(1)
	}
}
