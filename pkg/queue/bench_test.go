package queue_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// BenchmarkOwner measures one owner's operations/s under 16 concurrent clients:
// enqueues, and dequeue+commit pairs.
//
//	go test -run x -bench Owner -benchtime 5000x ./pkg/queue/
func BenchmarkOwner(b *testing.B) {
	s := stacktest.NATS(b)
	startOwner(b, s, mustConfig(b, oneDomain))
	c := queue.NewClient(stacktest.Connect(b, s))
	ctx := context.Background()
	const clients = 16
	parallel := func(b *testing.B, f func() error) {
		var wg sync.WaitGroup
		start := time.Now()
		for w := range clients {
			wg.Go(func() {
				for i := w; i < b.N; i += clients {
					if err := f(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
	}
	b.Run("enqueue", func(b *testing.B) {
		parallel(b, func() error {
			_, err := c.Enqueue(ctx, "a1", queue.Message{Payload: []byte("test\n")}, queue.EnqueueOptions{})
			return err
		})
	})
	b.Run("dequeue-commit", func(b *testing.B) {
		parallel(b, func() error {
			d, err := c.Dequeue(ctx, "a1", queue.Select{Wait: time.Second})
			if err != nil {
				return err
			}
			return c.Commit(ctx, d)
		})
	})
}
