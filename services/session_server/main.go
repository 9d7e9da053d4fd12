// Command session_server serves the session HTTP API (C9): reads from Redis, commands
// to the session writer over NATS, and the sessions' notifications (pkg/notify:
// GET /session/{id}/notifications, POST /session/{id}/notify, POST /notify).
//
// Environment: as wallet_server's (HTTP_ADDR, default :$HTTP_PORT; NATS_URL, REDIS_ADDR,
// REDIS_PASSWORD, PARTITIONS, COMMAND_TIMEOUT, LOG_LEVEL, PPROF_ADDR).
package main

import (
	"os"

	"github.com/go-chi/chi/v5"

	"uneventful.dev/uneventful/domains/session"
	"uneventful.dev/uneventful/pkg/notify"
	"uneventful.dev/uneventful/pkg/service"
)

func main() {
	os.Exit(service.ServerMain(session.Domain{}, os.Args[1:], os.Getenv,
		service.WithRoutes(func(r chi.Router, d service.Deps) error {
			notify.New(d.NATS, d.Redis).Mount(r)
			return nil
		})))
}
