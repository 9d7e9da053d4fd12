// Command wallet_writer is the one write path of wallets: commands over NATS, event and
// state logs in SQLite, the Redis read model, events to JetStream.
//
// Environment: WALLET_DB (default $DATA_DIR/wallet_writer/datastore.db, DATA_DIR default
// ./data), HTTP_ADDR (health; default 127.0.0.1:8082), NATS_URL, REDIS_ADDR,
// REDIS_PASSWORD, PARTITIONS (16), MAX_BATCH (512), ENTITY_CACHE (wallets kept in memory,
// 100000), LOG_LEVEL.
//
// `wallet_writer verify` replays the event log, compares it with the state log, and exits.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/writer"
)

func main() {
	env := service.Env(os.Getenv)
	cfg := service.WriterConfig{
		Common: env.Common("127.0.0.1:8082"),
		DBPath: env.String("WALLET_DB", filepath.Join(env.String("DATA_DIR", "data"), "wallet_writer", "datastore.db")),
		Writer: writer.Config{Partitions: env.Int("PARTITIONS", 0), MaxBatch: env.Int("MAX_BATCH", 0), EntityCache: env.Int("ENTITY_CACHE", 0)},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "verify" {
		os.Exit(verify(ctx, cfg))
	}
	if err := service.RunWriter(ctx, cfg, wallet.Domain{}); err != nil {
		cfg.Log.Error("wallet_writer failed", "err", err)
		os.Exit(1)
	}
}
