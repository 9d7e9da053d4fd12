// Command lock_server serves the lock HTTP API (C10): reads from Redis, commands to the
// lock writer over NATS, and holds a waiting acquire until its grant or the end of its
// wait arrives among the lock's live events.
//
// Environment: as wallet_server (HTTP_ADDR, NATS_URL, REDIS_ADDR, REDIS_PASSWORD,
// PARTITIONS, COMMAND_TIMEOUT, LOG_LEVEL, PPROF_ADDR).
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/lock"
	"uneventful.dev/uneventful/pkg/service"
)

func main() { os.Exit(service.ServerMain(lock.Domain{}, os.Args[1:], os.Getenv)) }
