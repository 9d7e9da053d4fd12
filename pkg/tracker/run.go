package tracker

import (
	"context"
	"errors"
	"net/http"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/sse"
)

// Config configures the tracker service.
type Config struct {
	service.Common
	Options
}

// Run serves the tracker until ctx is done: it listens at once (GET /healthz; /readyz
// and the API answer 503 until the replay is done), replays the stored history in bulk,
// then follows it live and moves the window every ten seconds. It returns an error at
// once if it cannot start, and when the history refuses its stream.
func Run(ctx context.Context, cfg Config) error {
	c := cfg.Common.WithDefaults()
	if cfg.Options.Log == nil {
		cfg.Options.Log = c.Log
	}
	t, err := New(cfg.Options)
	if err != nil {
		return err
	}
	ln, stopPprof, err := c.Listen()
	if err != nil {
		return err
	}
	defer stopPprof()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	r := httpapi.NewRouter()
	r.Use(sse.EndStreams(ctx))
	httpapi.MountHealth(r, map[string]httpapi.Check{"replay": func(context.Context) error {
		if !t.Ready() {
			return errors.New("replaying the history")
		}
		return nil
	}})
	t.Mount(r)
	served := make(chan error, 1)
	go func() { served <- service.Serve(ctx, ln, c.Log, r) }()
	fed := make(chan error, 1)
	go func() {
		if err := t.Replay(ctx); err != nil {
			fed <- err
			return
		}
		go t.Expire(ctx, 10*time.Second)
		fed <- t.Follow(ctx)
	}()
	select {
	case err = <-served:
		stop()
		<-fed
	case err = <-fed:
		if ctx.Err() != nil {
			err = nil
		}
		stop()
		err = errors.Join(err, <-served)
	}
	return err
}

// Main runs the tracker (Configure says what it reads), upcasting the events of domains
// (those that implement aggregate.Versioned); the whole of services/tracker/main.go is
//
//	func main() { os.Exit(tracker.Main(os.Args[1:], os.Getenv, wallet.Domain{})) }
func Main(args []string, getenv func(string) string, domains ...interface{ Name() string }) int {
	env := service.NewEnv(getenv)
	cfg := Configure(env)
	if len(args) > 0 {
		return service.Usage(cfg.Common.Log, "tracker", args, "")
	}
	var err error
	if cfg.Upcasters, err = event.NewUpcasters(domains...); err != nil {
		cfg.Common.Log.Error("tracker: the domains' upcasters", "err", err.Error())
		return 2
	}
	if err := cfg.Options.Validate(); err != nil {
		cfg.Common.Log.Error("tracker: invalid configuration", "err", err.Error())
		return 2
	}
	return service.Run("tracker", env, cfg.Common.Log, func(ctx context.Context) error { return Run(ctx, cfg) })
}

// Configure reads the tracker's configuration: Common with HTTP_ADDR defaulting to
// LocalAddr(8083), HISTORY_URL (default http://127.0.0.1:8081) and TRACKER_WINDOW
// (default 168h: seven days).
func Configure(e *service.Env) Config {
	c := e.Common(e.LocalAddr(8083))
	return Config{Common: c, Options: Options{
		HistoryURL: e.String("HISTORY_URL", "http://127.0.0.1:8081"),
		Window:     e.Duration("TRACKER_WINDOW", DefaultWindow),
		Log:        c.Log,
		Client:     &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, ResponseHeaderTimeout: 30 * time.Second}},
	}}
}
