// Command wallet_writer is the one write path of wallets: commands over NATS, event and
// state logs in SQLite, the Redis read model, events to JetStream.
//
// Environment: WALLET_DB (default $DATA_DIR/wallet_writer/datastore.db, DATA_DIR default
// ./data), HTTP_ADDR (health; default $BIND_ADDR:8082, BIND_ADDR default 127.0.0.1),
// NATS_URL, REDIS_ADDR, REDIS_PASSWORD, PARTITIONS (16), MAX_BATCH (512), ENTITY_CACHE (100000), LOG_LEVEL,
// PPROF_ADDR. A value that is set but invalid stops it at start (exit 2).
//
// `wallet_writer verify` replays the event log, compares it with the state log, and exits.
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/service/writerservice"
)

func main() { os.Exit(writerservice.Main(wallet.Domain{}, 8082, os.Args[1:], os.Getenv)) }
