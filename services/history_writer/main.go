// Command history_writer keeps the global, ordered log of every domain's events and
// serves it at GET /history?after=<position>&limit=<n>.
//
// Environment: HISTORY_DB (default $DATA_DIR/history_writer/history.db, DATA_DIR default
// ./data), HISTORY_JS_DOMAINS (the JetStream domains whose events it copies, e.g. A,B;
// default the domain of NATS_URL's server; another server's through the leafnodes),
// HTTP_ADDR (default $BIND_ADDR:8081, BIND_ADDR default 127.0.0.1), NATS_URL,
// LOG_LEVEL, PPROF_ADDR. A value that is set but invalid stops it at start (exit 2).
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/service/historyservice"
)

func main() { os.Exit(historyservice.Main(os.Args[1:], os.Getenv, wallet.Domain{})) }
