// Package historyservice runs the history writer: every domain's events consumed into
// the global log, served on GET /history. services/history_writer and the tests call Run.
package historyservice

import (
	"context"
	"errors"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/natsconn"
	"uneventful.dev/uneventful/pkg/service"
)

// Config configures the history writer.
type Config struct {
	service.Common
	DBPath string // the SQLite file of the global log
}

// Run consumes every domain's events into the global log and serves
// GET /history until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	c := cfg.Common.WithDefaults()
	if cfg.DBPath == "" {
		return errors.New("history: DBPath is required")
	}
	service.ServePprof(c)
	store, err := history.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer store.Close()
	nc, err := natsconn.Connect(c.NATSURL, "history_writer", c.Log)
	if err != nil {
		return err
	}
	defer nc.Close()
	consumed := make(chan error, 1)
	go func() { consumed <- history.Consume(ctx, nc, store, c.Log) }()
	r := httpapi.NewRouter()
	httpapi.MountHealth(r, map[string]httpapi.Check{"nats": service.NATSCheck(nc), "sqlite": store.Ping})
	history.Mount(r, store)
	err = service.Serve(ctx, c, r)
	return errors.Join(err, <-consumed)
}
