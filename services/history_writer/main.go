// Command history_writer keeps the global, ordered log of every domain's events and
// serves it at GET /history?after=<position>&limit=<n>.
//
// Environment: HISTORY_DB (default $DATA_DIR/history_writer/history.db, DATA_DIR default
// ./data), HTTP_ADDR (default :8081), NATS_URL, LOG_LEVEL.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/service/historyservice"
)

func main() {
	env := service.Env(os.Getenv)
	cfg := historyservice.Config{
		Common: env.Common(":8081"),
		DBPath: env.String("HISTORY_DB", filepath.Join(env.String("DATA_DIR", "data"), "history_writer", "history.db")),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := historyservice.Run(ctx, cfg); err != nil {
		cfg.Log.Error("history_writer failed", "err", err)
		os.Exit(1)
	}
}
