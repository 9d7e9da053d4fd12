// Package service wires uneventful's packages into the services a domain runs: the
// server here (ServerMain, RunServer), the writer in writerservice, the history writer in
// historyservice, apart so that a server links neither the event store nor the commit
// loop. It holds what they share: configuration (Env), start-up (Listen, Run), health.
// Each services/*/main.go is one call to a Main function, which reads the configuration
// and calls a Run function; tests call the same Run functions on :0 ports. What a
// domain must provide: docs/domains.md.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// Common is the configuration every service shares.
type Common struct {
	NATSURL       string       // default nats://127.0.0.1:4222
	RedisAddr     string       // default 127.0.0.1:6379
	RedisPassword string       // optional
	HTTPAddr      string       // where /healthz, /readyz (and the API) listen
	Listener      net.Listener // if set, used instead of HTTPAddr (tests: a :0 listener)
	Log           *slog.Logger // default slog.Default()
	PprofAddr     string       // if set, Go's profiler listens there
}

// WithDefaults returns c with every unset field at its default.
func (c Common) WithDefaults() Common {
	if c.NATSURL == "" {
		c.NATSURL = "nats://127.0.0.1:4222"
	}
	if c.RedisAddr == "" {
		c.RedisAddr = "127.0.0.1:6379"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Redis returns a client of c's Redis.
func (c Common) Redis() *goredis.Client {
	return goredis.NewClient(&goredis.Options{
		Addr:         c.RedisAddr,
		Password:     c.RedisPassword,
		PoolSize:     256,
		MinIdleConns: 8,
		DialTimeout:  time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
		MaxRetries:   1,
	})
}

// NATSCheck is a readiness check that fails while nc is not connected.
func NATSCheck(nc *nats.Conn) func(context.Context) error {
	return func(context.Context) error {
		if !nc.IsConnected() {
			return failure.New(failure.Unavailable, "nats_disconnected", "not connected to NATS")
		}
		return nil
	}
}

// Listen binds the service's HTTP address (or takes c.Listener) and starts Go's profiler
// on PprofAddr when set, so that an address in use fails the start at once. stop closes
// the profiler; Serve closes the listener.
func (c Common) Listen() (ln net.Listener, stop func(), err error) {
	ln = c.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", c.HTTPAddr); err != nil {
			return nil, nil, fmt.Errorf("listen on HTTP_ADDR %s: %w", c.HTTPAddr, err)
		}
	}
	stop, err = servePprof(c)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return ln, stop, nil
}

// Serve runs h on ln until ctx is done, then shuts down gracefully (httpapi.Serve).
// Requests have 30 s to be read and answered; an event stream lifts both (pkg/sse).
func Serve(ctx context.Context, ln net.Listener, log *slog.Logger, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	log.Info("listening", "addr", ln.Addr().String())
	return httpapi.Serve(ctx, ln, srv)
}
