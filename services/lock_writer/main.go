// Command lock_writer is the one write path of locks: commands over NATS, event and state
// logs in SQLite, the Redis read model, events to JetStream, and the locks' timers (the
// end of each lease and of each wait).
//
// Environment: LOCK_DB (default $DATA_DIR/lock_writer/datastore.db), HTTP_ADDR (health;
// default $BIND_ADDR:8085), and the rest as wallet_writer.
//
// `lock_writer verify` replays the event log, compares it with the state log, and exits.
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/lock"
	"uneventful.dev/uneventful/pkg/service/writerservice"
)

func main() { os.Exit(writerservice.Main(lock.Domain{}, 8085, os.Args[1:], os.Getenv)) }
