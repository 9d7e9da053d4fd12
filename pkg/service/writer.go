package service

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
	"uneventful.dev/uneventful/pkg/writer"
)

// WriterConfig configures a domain's writer.
type WriterConfig struct {
	Common
	DBPath string // the SQLite file of the event and state logs
	Writer writer.Config
}

// RunWriter runs the writer of domain d until ctx is done, then finishes the commands it
// took and returns. Its HTTP address serves /healthz and /readyz.
func RunWriter[S any](ctx context.Context, cfg WriterConfig, d aggregate.Domain[S]) error {
	c := cfg.Common.withDefaults()
	if cfg.DBPath == "" {
		return errors.New("writer: DBPath is required")
	}
	servePprof(c)
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
	rdb := c.redis()
	defer rdb.Close()
	proj := redis.New(rdb)
	defer proj.Close()
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
		httpapi.MountHealth(r, map[string]httpapi.Check{"nats": natsCheck(nc), "redis": proj.Ping, "writer": w.Ready})
		httpErr <- serve(ctx, c, r)
	}()
	c.Log.Info("writer started", "domain", d.Name(), "db", cfg.DBPath, "last_seq", store.LastSeq())
	err = w.Run(ctx)
	stopPub()
	wg.Wait()
	c.Log.Info("writer stopped", "domain", d.Name())
	return errors.Join(err, <-httpErr)
}
