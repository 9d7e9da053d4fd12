package stacktest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"uneventful.dev/uneventful/pkg/queuedomain"
)

// QueueDomain starts a queue domain with cfg (queuedomain.Start, logging nothing) and
// runs it until stop is called or the test ends, whichever comes first; stop returns once
// it has stopped and closed, and may be called again. A start-up failure, or an error
// from its Run, fails the test.
func QueueDomain(t testing.TB, cfg queuedomain.Config) (d *queuedomain.Domain, stop func()) {
	t.Helper()
	d, err := queuedomain.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("queue domain: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("queue domain: %v", err)
			}
			d.Close()
		})
	}
	t.Cleanup(stop)
	return d, stop
}
