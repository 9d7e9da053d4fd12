package queue_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustConfig(t testing.TB, yaml string) queue.Config {
	t.Helper()
	cfg, err := queue.ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startOwner runs an owner of cfg on s until the returned stop is called (or the test ends).
func startOwner(t testing.TB, s *server.Server, cfg queue.Config) (stop func()) {
	t.Helper()
	_, stop = runOwner(t, s, cfg)
	return stop
}

// runOwner is startOwner, also returning the owner.
func runOwner(t testing.TB, s *server.Server, cfg queue.Config) (o *queue.Owner, stop func()) {
	t.Helper()
	nc := stacktest.Connect(t, s)
	o, err := queue.NewOwner(cfg, nc, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	c := queue.NewClient(nc)
	stacktest.Eventually(t, 10*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("owner stopped: %v", err)
		default:
		}
		_, err := c.Browse(ctx, cfg.Queues[0].Name)
		return err
	})
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("owner: %v", err)
		}
	}
	t.Cleanup(stop)
	return o, stop
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
