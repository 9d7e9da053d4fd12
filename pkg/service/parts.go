package service

import (
	"context"
	"net/http"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"
)

// The parts every service is built of, for the Run functions that live in packages of
// their own (writerservice, historyservice) so that a server links neither the event
// store nor the history.

// WithDefaults returns c with every unset field at its default.
func (c Common) WithDefaults() Common { return c.withDefaults() }

// Redis returns a client of c's Redis.
func (c Common) Redis() *goredis.Client { return c.redis() }

// NATSCheck is a readiness check that fails while nc is not connected.
func NATSCheck(nc *nats.Conn) func(context.Context) error { return natsCheck(nc) }

// Serve runs h on c's listener until ctx is done, then shuts down gracefully.
func Serve(ctx context.Context, c Common, h http.Handler) error { return serve(ctx, c, h) }

// ServePprof serves Go's profiler on c.PprofAddr when it is set.
func ServePprof(c Common) { servePprof(c) }
