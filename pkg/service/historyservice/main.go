package historyservice

import (
	"context"
	"path/filepath"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/service"
)

// Main runs the history writer (Configure says what it reads), upcasting the events of
// domains (those that implement aggregate.Versioned); the whole of
// services/history_writer/main.go is
//
//	func main() { os.Exit(historyservice.Main(os.Args[1:], os.Getenv, wallet.Domain{})) }
//
// Exit statuses as service.Run.
func Main(args []string, getenv func(string) string, domains ...interface{ Name() string }) int {
	env := service.NewEnv(getenv)
	cfg := Configure(env)
	if len(args) > 0 {
		return service.Usage(cfg.Log, "history_writer", args, "")
	}
	var err error
	if cfg.Upcasters, err = event.NewUpcasters(domains...); err != nil {
		cfg.Log.Error("history_writer: the domains' upcasters", "err", err)
		return 2
	}
	return service.Run("history_writer", env, cfg.Log, func(ctx context.Context) error { return Run(ctx, cfg) })
}

// Configure reads the history writer's configuration: Common with HTTP_ADDR defaulting
// to LocalAddr(8081), HISTORY_DB (default $DATA_DIR/history_writer/history.db) and
// HISTORY_JS_DOMAINS (the JetStream domains to copy, comma-separated; default none: the
// domain of NATS_URL's server).
func Configure(e *service.Env) Config {
	return Config{
		Common:    e.Common(e.LocalAddr(8081)),
		DBPath:    e.String("HISTORY_DB", filepath.Join(e.String("DATA_DIR", "data"), "history_writer", "history.db")),
		JSDomains: e.List("HISTORY_JS_DOMAINS"),
	}
}
