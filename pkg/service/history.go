package service

import (
	"context"
	"errors"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/natsconn"
)

// HistoryConfig configures the history writer.
type HistoryConfig struct {
	Common
	DBPath string // the SQLite file of the global log
}

// RunHistory consumes every domain's events into the global log and serves
// GET /history until ctx is done.
func RunHistory(ctx context.Context, cfg HistoryConfig) error {
	c := cfg.Common.withDefaults()
	if cfg.DBPath == "" {
		return errors.New("history: DBPath is required")
	}
	servePprof(c)
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
	httpapi.MountHealth(r, map[string]httpapi.Check{"nats": natsCheck(nc), "sqlite": store.Ping})
	history.Mount(r, store)
	err = serve(ctx, c, r)
	return errors.Join(err, <-consumed)
}
