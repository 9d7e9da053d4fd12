package bus_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/bus"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// BenchmarkCall measures round trips per second, each phase b.N of them with conc in
// flight on one connection, all against one embedded NATS server in this process:
//
//   - nats-req/s: the ceiling, bare NATS request/reply to a responder echoing the payload;
//   - service-call/s: bus.Call to a service (forward.Serve echoing), the bus's own cost
//     beside the ceiling;
//   - credit-call/s: bus.Call of a wallet credit over 1,000 wallets, a durable write
//     (the writer's SQLite commit, Redis, reply) beside the ceiling.
//
// go test -run x -bench BenchmarkCall -benchtime 5000x ./pkg/bus/
func BenchmarkCall(b *testing.B) {
	for _, conc := range []int{1, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			s := stacktest.Start(b)
			nc := stacktest.Connect(b, s.NATS)
			responder := stacktest.Connect(b, s.NATS)
			if _, err := responder.Subscribe("bench.echo", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil { //nolint:errcheck
				b.Fatal(err)
			}
			svc, err := forward.Serve(responder, "bench", "echo", forward.Examples["echo"])
			if err != nil {
				b.Fatal(err)
			}
			defer svc.Stop()
			bu := bus.New(nc, bus.Options{})
			ctx := context.Background()
			wallets := make([]string, 1000)
			for i := range wallets {
				wallets[i] = "wallet." + event.NewID()
			}
			payload := []byte(`{"amount": 1}`)
			b.ResetTimer()
			natsRate := rate(b, conc, func(int) error {
				_, err := nc.Request("bench.echo", payload, 5*time.Second)
				return err
			})
			serviceRate := rate(b, conc, func(int) error {
				_, err := bu.Call(ctx, "service.echo", "", payload)
				return err
			})
			creditRate := rate(b, conc, func(i int) error {
				_, err := bu.Call(ctx, wallets[i%len(wallets)], "credit", payload)
				return err
			})
			b.ReportMetric(natsRate, "nats-req/s")
			b.ReportMetric(serviceRate, "service-call/s")
			b.ReportMetric(creditRate, "credit-call/s")
			b.ReportMetric(serviceRate/natsRate, "service-ratio")
			b.ReportMetric(creditRate/natsRate, "credit-ratio")
		})
	}
}

// rate runs f b.N times, conc at once, and returns how many per second.
func rate(b *testing.B, conc int, f func(i int) error) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := f(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(b.N) / time.Since(start).Seconds()
}
