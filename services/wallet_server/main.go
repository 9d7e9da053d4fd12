// Command wallet_server serves the wallet HTTP API: reads from Redis, commands to the
// wallet writer over NATS.
//
// Environment: HTTP_ADDR (default :$HTTP_PORT, HTTP_PORT default 80: every interface, as
// the HTTP entry), NATS_URL, REDIS_ADDR, REDIS_PASSWORD, PARTITIONS (16), COMMAND_TIMEOUT
// (5s), LOG_LEVEL, PPROF_ADDR. A value that is set but invalid stops it at start (exit 2).
package main

import (
	"os"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/service"
)

func main() { os.Exit(service.ServerMain(wallet.Domain{}, os.Args[1:], os.Getenv)) }
