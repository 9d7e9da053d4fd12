package service

import (
	"context"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/livefeed"
	"uneventful.dev/uneventful/pkg/natsconn"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
	"uneventful.dev/uneventful/pkg/sse"
)

// API describes the HTTP face of a domain.
type API interface {
	Name() string
	Commands() []string
	Views() (state, events []string)
	ParseCommand(typ string, body []byte) (aggregate.Command, error)
}

// Served is what a server needs of a domain: its HTTP face, and the domain itself for
// the optional behaviours of pkg/aggregate/lifecycle.go (ended entities, GET
// ?revision=N folds the stored events through Evolve).
type Served[S any] interface {
	API
	aggregate.Domain[S]
}

// ServerConfig configures a domain's HTTP server.
type ServerConfig struct {
	Common
	Partitions     int           // must match the writers'; default command.DefaultPartitions
	CommandTimeout time.Duration // deadline of a command; default 5s
}

// RunServer serves the HTTP API of domain d until ctx is done, then finishes in-flight
// requests and returns. It returns at once with an error if it cannot start (d's
// commands and views break a rule of docs/domains.md, its address is taken). opts add
// routes (extend.go).
func RunServer[S any](ctx context.Context, cfg ServerConfig, d Served[S], opts ...ServerOption) error {
	c := cfg.Common.WithDefaults()
	if err := checkAPI(d); err != nil {
		return err
	}
	ln, stopPprof, err := c.Listen()
	if err != nil {
		return err
	}
	defer stopPprof()
	defer ln.Close() //nolint:errcheck // serve closes it; this is for an early return
	nc, err := natsconn.Connect(c.NATSURL, d.Name()+"_server", c.Log)
	if err != nil {
		return err
	}
	defer nc.Close()
	rdb := c.Redis()
	defer rdb.Close()
	proj := redis.New(rdb)
	defer proj.Close()
	feed, err := livefeed.Start(nc, d.Name()) // live events for GET /{domain}/{id}/events
	if err != nil {
		return err
	}
	defer feed.Close() //nolint:errcheck // the connection closes next
	stateViews, eventViews := d.Views()
	api := &httpapi.Entities{
		Domain: d.Name(), Commands: d.Commands(), StateViews: stateViews, EventViews: eventViews,
		Parse: d.ParseCommand, Reader: proj, Timeout: cfg.CommandTimeout, Feed: feed, Stored: proj,
		Lifecycle: httpapi.NewLifecycle[S](d),
		Writer:    command.NewClient(nc, d.Name(), cfg.Partitions, cfg.CommandTimeout),
	}
	if ids, ok := d.(aggregate.IDSyntax); ok { // not KSUIDs (lock names)
		api.CheckID = ids.CheckID
	}
	if waits, ok := d.(httpapi.Waiter); ok { // commands that may wait (a lock's acquire)
		api.Waits = waits
	}
	r := httpapi.NewRouter()
	r.Use(sse.EndStreams(ctx)) // event streams end on shutdown; other requests finish
	httpapi.MountHealth(r, map[string]httpapi.Check{"nats": NATSCheck(nc), "redis": proj.Ping})
	api.Mount(r)
	if err := mountExtra(r, Deps{NATS: nc, Redis: rdb, Log: c.Log}, opts); err != nil {
		return err
	}
	return Serve(ctx, ln, c.Log, r)
}
