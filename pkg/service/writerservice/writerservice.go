// Package writerservice runs a domain's writer: the event store, the commit loop, the
// outbox and the read model, with /healthz and /readyz. services/*_writer and the tests
// call Run.
package writerservice

import (
	"context"
	"errors"
	"sync"

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
// took and returns. Its HTTP address serves /healthz and /readyz.
func Run[S any](ctx context.Context, cfg Config, d aggregate.Domain[S]) error {
	c := cfg.Common.WithDefaults()
	if cfg.DBPath == "" {
		return errors.New("writer: DBPath is required")
	}
	service.ServePprof(c)
	store, err := sqlite.Open(ctx, cfg.DBPath, sqlite.Options{WriteBusyTimeout: sqlite.CommitBusyTimeout})
	if err != nil {
		return err
	}
	defer store.Close()
	nc, err := natsconn.Connect(c.NATSURL, d.Name()+"_writer", c.Log)
	if err != nil {
		return err
	}
	defer nc.Close()
	rdb := c.Redis()
	defer rdb.Close()
	proj := redis.New(rdb)
	pub, err := outbox.New(store, nc, c.Log)
	if err != nil {
		return err
	}
	w := writer.New(d, store, proj, nc, pub, cfg.Writer, c.Log)

	pubCtx, stopPub := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pub.Run(pubCtx) }() //nolint:errcheck // it only returns on cancel or a broken store
	httpErr := make(chan error, 1)
	go func() {
		defer wg.Done()
		r := httpapi.NewRouter()
		httpapi.MountHealth(r, map[string]httpapi.Check{"nats": service.NATSCheck(nc), "redis": proj.Ping, "writer": w.Ready})
		httpErr <- service.Serve(ctx, c, r)
	}()
	c.Log.Info("writer started", "domain", d.Name(), "db", cfg.DBPath, "last_seq", store.LastSeq())
	err = w.Run(ctx)
	stopPub()
	wg.Wait()
	c.Log.Info("writer stopped", "domain", d.Name())
	return errors.Join(err, <-httpErr)
}
