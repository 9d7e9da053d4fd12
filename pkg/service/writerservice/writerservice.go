// Package writerservice runs a domain's writer: the event store, the commit loop, the
// outbox and the read model, with /healthz and /readyz. services/*_writer call Main;
// tests call Run.
package writerservice

import (
	"context"
	"errors"
	"fmt"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/natsconn"
	"uneventful.dev/uneventful/pkg/outbox"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/writer"
)

// Config configures a domain's writer.
type Config struct {
	service.Common
	DBPath string // the SQLite file of the event and state logs
	Writer writer.Config
}

// Run runs the writer of domain d until ctx is done, then finishes the commands it
// took and returns. Its HTTP address serves /healthz and /readyz (NATS, Redis, the
// writer and the outbox). It returns at once with an error if it cannot start (the
// domain breaks a rule of docs/domains.md, its address is taken, its database cannot be
// opened) and, without waiting for ctx, if its outbox or HTTP server fails.
func Run[S any](ctx context.Context, cfg Config, d aggregate.Domain[S]) error {
	c := cfg.Common.WithDefaults()
	if err := service.CheckName(d.Name()); err != nil {
		return err
	}
	if err := service.CheckState[S](d.Name()); err != nil {
		return err
	}
	if cfg.DBPath == "" {
		return errors.New("writer: DBPath is required")
	}
	ln, stopPprof, err := c.Listen()
	if err != nil {
		return err
	}
	defer stopPprof()
	defer ln.Close() //nolint:errcheck // serve closes it; this is for an early return
	store, err := sqlite.Open(ctx, cfg.DBPath, sqlite.Options{WriteBusyTimeout: sqlite.CommitBusyTimeout})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.ClaimDomain(ctx, d.Name()); err != nil {
		return err
	}
	nc, err := natsconn.Connect(c.NATSURL, d.Name()+"_writer", c.Log)
	if err != nil {
		return err
	}
	defer nc.Close()
	rdb := c.Redis()
	defer rdb.Close()
	proj := redis.New(rdb)
	defer proj.Close()
	pub, err := outbox.New(store, nc, c.Log)
	if err != nil {
		return err
	}
	w := writer.New(d, store, proj, nc, pub, cfg.Writer, c.Log)

	// The outbox outlives ctx (it publishes what the writer commits while it stops);
	// a failing outbox or HTTP server stops the writer.
	ctx, fail := context.WithCancel(ctx)
	defer fail()
	pubCtx, stopPub := context.WithCancel(context.Background())
	pubErr := make(chan error, 1)
	go func() {
		err := pub.Run(pubCtx)
		if err != nil {
			err = fmt.Errorf("outbox: %w", err)
			fail()
		}
		pubErr <- err
	}()
	r := httpapi.NewRouter()
	httpapi.MountHealth(r, map[string]httpapi.Check{"nats": service.NATSCheck(nc), "redis": proj.Ping, "writer": w.Ready, "outbox": pub.Ready})
	httpErr := make(chan error, 1)
	go func() {
		err := service.Serve(ctx, ln, c.Log, r)
		if err != nil {
			fail()
		}
		httpErr <- err
	}()
	c.Log.Info("writer started", "domain", d.Name(), "db", cfg.DBPath, "last_seq", store.LastSeq())
	err = w.Run(ctx)
	stopPub()
	err = errors.Join(<-pubErr, <-httpErr, err)
	c.Log.Info("writer stopped", "domain", d.Name())
	return err
}
