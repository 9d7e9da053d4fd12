package queuedomain_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// BenchmarkForward measures messages/s through b1 -> echo (in A) -> b2 -> a1 across two
// domains joined by a leafnode, beside the JetStream publish ceiling of the same
// servers in the same run:
//
//	go test -run x -bench Forward -benchtime 5000x ./pkg/queuedomain/
func BenchmarkForward(b *testing.B) {
	b.Run("jetstream-publish-ceiling", func(b *testing.B) {
		a, _ := benchDomains(b, 1)
		nc := connectURL(b, a.ClientURL())
		js, _ := jetstream.New(nc)
		ctx := context.Background()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "CEILING", Subjects: []string{"ceiling.>"}, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
			b.Fatal(err)
		}
		payload := []byte(`{"id":"3Mx8H9MG4UiN7eCz3eCnJ7d966Z","stream":"queue.B","version":1,"type":"enqueued","data":{"queue":"b1"}}`)
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			m := &nats.Msg{Subject: "ceiling.x", Data: payload, Header: nats.Header{}}
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprint(i))
			if _, err := js.PublishMsgAsync(m); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	})
	for _, instances := range []int{1, 8} {
		b.Run(fmt.Sprintf("b1-echo-b2-a1/instances=%d", instances), func(b *testing.B) {
			a, bd := benchDomains(b, instances)
			ncA, ncB := connectURL(b, a.ClientURL()), connectURL(b, bd.ClientURL())
			qa, qb := queue.NewClient(ncA), queue.NewClient(ncB)
			ctx := context.Background()
			waitVisible(b, qb, "a1")
			waitVisible(b, qb, "b1")
			waitVisible(b, qb, "b2")
			payload := []byte("test\n")
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			const senders = 16
			for s := range senders {
				wg.Go(func() {
					for i := s; i < b.N; i += senders {
						if _, err := qb.Enqueue(ctx, "b1", queue.Message{Payload: payload}, queue.EnqueueOptions{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			for !b.Failed() {
				qs, err := qa.Queues(ctx, 20*time.Millisecond)
				if err != nil {
					b.Fatal(err)
				}
				var n int
				for _, q := range qs {
					if q.Name == "a1" {
						n = q.Count
					}
				}
				if n >= b.N {
					break
				}
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("only %d of %d messages reached a1", n, b.N)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

func benchDomains(b *testing.B, instances int) (a, bd *queuedomain.Domain) {
	b.Helper()
	ya := `
domain: A
services: [echo]
queues: [{name: a1}]
`
	yb := fmt.Sprintf(`
domain: B
queues: [{name: b1}, {name: b2}]
forward:
  services: [{source: b1, instances: %d, target: {service: echo}, reply: {queue: b2}}]
  queues: [{source: b2, instances: %d, target: {queue: a1}}]
`, instances, instances)
	a = runDomain(b, ya, -1)
	bd = runDomain(b, yb, 0, a.LeafURL())
	return a, bd
}

func runDomain(b *testing.B, yaml string, leafPort int, peers ...string) *queuedomain.Domain {
	cfg, err := queue.ParseConfig([]byte(yaml))
	if err != nil {
		b.Fatal(err)
	}
	d, _ := stacktest.QueueDomain(b, queuedomain.Config{Queues: cfg, Embed: queuedomain.Embed{Port: -1, StoreDir: b.TempDir(), LeafPort: leafPort, LeafPeers: peers}})
	return d
}

func waitVisible(b *testing.B, c *queue.Client, name string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.Browse(context.Background(), name); err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("queue %s not visible", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
