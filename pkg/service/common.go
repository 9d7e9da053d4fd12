// Package service wires uneventful's packages into the services a domain runs: the
// server here (RunServer), the writer in writerservice, the history writer in
// historyservice, apart so that a server links neither the event store nor the commit
// loop. Each services/*/main.go reads its configuration and calls one Run function;
// tests call the same functions on :0 ports.
package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/failure"
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

func (c Common) withDefaults() Common {
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

func (c Common) redis() *goredis.Client {
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

func natsCheck(nc *nats.Conn) func(context.Context) error {
	return func(context.Context) error {
		if !nc.IsConnected() {
			return failure.New(failure.Unavailable, "nats_disconnected", "not connected to NATS")
		}
		return nil
	}
}

// serve runs h until ctx is done, then shuts down gracefully, letting in-flight
// requests finish for up to 10 seconds.
func serve(ctx context.Context, c Common, h http.Handler) error {
	ln := c.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", c.HTTPAddr); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	c.Log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}
