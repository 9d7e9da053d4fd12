package service

import (
	"log/slog"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"
)

// ServerOption adds to what a domain's server serves (ServerMain, RunServer).
type ServerOption func(*serverOptions)

type serverOptions struct {
	routes []func(chi.Router, Deps) error
}

// Deps are the connections a server made, for the routes a ServerOption adds: they
// share them instead of opening their own.
type Deps struct {
	NATS  *nats.Conn
	Redis goredis.UniversalClient
	Log   *slog.Logger
}

// WithRoutes has the server mount routes of its own beside its domain's: mount is called
// once at start with the server's router (its middleware applies: C3 errors, correlation
// ids, streams ending on shutdown) and connections; its error fails the start. E.g. the
// session server's notifications:
//
//	service.ServerMain(session.Domain{}, os.Args[1:], os.Getenv,
//		service.WithRoutes(func(r chi.Router, d service.Deps) error {
//			notify.New(d.NATS, d.Redis).Mount(r)
//			return nil
//		}))
func WithRoutes(mount func(r chi.Router, d Deps) error) ServerOption {
	return func(o *serverOptions) { o.routes = append(o.routes, mount) }
}

// mountExtra mounts the routes opts add.
func mountExtra(r chi.Router, d Deps, opts []ServerOption) error {
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	for _, mount := range o.routes {
		if err := mount(r, d); err != nil {
			return err
		}
	}
	return nil
}
