package service

import (
	"context"
	"errors"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/natsconn"
	"uneventful.dev/uneventful/pkg/sse"
)

// HistoryConfig configures the history writer.
type HistoryConfig struct {
	Common
	DBPath string // the SQLite file of the global log
}

// RunHistory consumes every domain's events into the global log and serves
// GET /history until ctx is done. It returns at once with an error if it cannot start
// (its address is taken, its database cannot be opened) and, without waiting for ctx,
// if its consumer or HTTP server fails.
func RunHistory(ctx context.Context, cfg HistoryConfig) error {
	c := cfg.Common.withDefaults()
	if cfg.DBPath == "" {
		return errors.New("history: DBPath is required")
	}
	ln, stopPprof, err := c.listen()
	if err != nil {
		return err
	}
	defer stopPprof()
	defer ln.Close() //nolint:errcheck // serve closes it; this is for an early return
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
	ctx, fail := context.WithCancel(ctx)
	defer fail()
	consumed := make(chan error, 1)
	go func() {
		err := history.Consume(ctx, nc, store, c.Log)
		if err != nil {
			fail()
		}
		consumed <- err
	}()
	r := httpapi.NewRouter()
	r.Use(sse.EndStreams(ctx)) // event streams end on shutdown; other requests finish
	httpapi.MountHealth(r, map[string]httpapi.Check{"nats": natsCheck(nc), "sqlite": store.Ping})
	history.Mount(r, store)
	err = serve(ctx, ln, c.Log, r)
	fail()
	return errors.Join(err, <-consumed)
}
