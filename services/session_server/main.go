// Command session_server serves the session HTTP API (C9): reads from Redis, commands
// to the session writer over NATS.
//
// Environment: as wallet_server's (HTTP_ADDR, default :$HTTP_PORT; NATS_URL, REDIS_ADDR,
// REDIS_PASSWORD, PARTITIONS, COMMAND_TIMEOUT, LOG_LEVEL, PPROF_ADDR).
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/session"
	"uneventful.dev/uneventful/pkg/service"
)

func main() { os.Exit(service.ServerMain(session.Domain{}, os.Args[1:], os.Getenv)) }
