// Command tracker serves the live page of the work in flight across every domain at
// /tracker/ and its JSON at /tracker/api/items?state=in_flight|completed (contract C11).
// At start it reads the whole stored history in bulk from the history service, then
// follows it live.
//
// Environment: HISTORY_URL (default http://127.0.0.1:8081), TRACKER_WINDOW (how long
// completed items stay; default 168h), HTTP_ADDR (default $BIND_ADDR:8083, BIND_ADDR
// default 127.0.0.1), LOG_LEVEL, PPROF_ADDR. A value that is set but invalid stops it at
// start (exit 2).
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/tracker"
)

func main() { os.Exit(tracker.Main(os.Args[1:], os.Getenv, wallet.Domain{})) }
