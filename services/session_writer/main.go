// Command session_writer is the one write path of sessions (C9): commands over NATS,
// event and state logs in SQLite, the Redis read model, events to JetStream.
//
// Environment: as wallet_writer's, with SESSION_DB (default
// $DATA_DIR/session_writer/datastore.db) and the health address default $BIND_ADDR:8101.
//
// `session_writer verify` replays the event log, compares it with the state log, and exits.
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/session"
	"uneventful.dev/uneventful/pkg/service/writerservice"
)

func main() { os.Exit(writerservice.Main(session.Domain{}, 8101, os.Args[1:], os.Getenv)) }
