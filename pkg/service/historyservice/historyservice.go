// Package historyservice runs the history writer: it consumes every domain's events
// into the global log and serves it. services/history_writer calls Main; tests call Run.
package historyservice

import (
	"context"
	"errors"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/natsconn"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/sse"
)

// Config configures the history writer.
type Config struct {
	service.Common
	DBPath string // the SQLite file of the global log
	// Upcasters of every domain whose events changed format: the history stores and
	// serves each event in the current version of its type. Nil: as they come.
	Upcasters *event.Upcasters
	// JSDomains are the JetStream domains whose EVENTS streams it copies (those of other
	// servers reached through leafnodes). None: the stream of NATSURL's server's domain.
	JSDomains []string
}

// Run consumes every domain's events into the global log and serves
// GET /history until ctx is done. It returns at once with an error if it cannot start
// (its address is taken, its database cannot be opened) and, without waiting for ctx,
// if its consumer or HTTP server fails.
func Run(ctx context.Context, cfg Config) error {
	c := cfg.Common.WithDefaults()
	if cfg.DBPath == "" {
		return errors.New("history: DBPath is required")
	}
	ln, stopPprof, err := c.Listen()
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
	store.UseUpcasters(cfg.Upcasters)
	nc, err := natsconn.Connect(c.NATSURL, "history_writer", c.Log)
	if err != nil {
		return err
	}
	defer nc.Close()
	cp, err := history.NewCopy(nc, store, c.Log, cfg.JSDomains...)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	copied := make(chan struct{})
	go func() { cp.Run(ctx); close(copied) }()
	r := httpapi.NewRouter()
	r.Use(sse.EndStreams(ctx)) // event streams end on shutdown; other requests finish
	httpapi.MountHealth(r, map[string]httpapi.Check{"nats": service.NATSCheck(nc), "sqlite": store.Ping, "copying": cp.Ready})
	history.Mount(r, store)
	err = service.Serve(ctx, ln, c.Log, r)
	stop()
	<-copied
	return err
}
