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

// BenchmarkCall measures round trips per second with conc in flight on one connection,
// all against one embedded NATS server in this process, in three phases (b.N credits,
// 20 b.N of each of the others) taking turns:
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
			phases := []func(int) error{
				func(int) error { _, err := nc.Request("bench.echo", payload, 5*time.Second); return err },
				func(int) error { _, err := bu.Call(ctx, "service.echo", "", payload); return err },
				func(i int) error { _, err := bu.Call(ctx, wallets[i%len(wallets)], "credit", payload); return err },
			}
			for _, f := range phases { // warm-up: connections, lanes, the writer's first batches
				run(b, conc, 200, f)
			}
			// The phases take turns, a tenth of b.N each time, so that what else runs on
			// the machine meanwhile weighs on all three alike.
			var took [3]time.Duration
			b.ResetTimer()
			for round := range rounds {
				n := b.N / rounds
				if round < b.N%rounds {
					n++
				}
				for p, f := range phases {
					took[p] += run(b, conc, n*scale[p], f)
				}
			}
			natsRate, serviceRate, creditRate := perSecond(b.N*scale[0], took[0]), perSecond(b.N*scale[1], took[1]), perSecond(b.N, took[2])
			b.ReportMetric(natsRate, "nats-req/s")
			b.ReportMetric(serviceRate, "service-call/s")
			b.ReportMetric(creditRate, "credit-call/s")
			b.ReportMetric(serviceRate/natsRate, "service-ratio")
			b.ReportMetric(creditRate/natsRate, "credit-ratio")
		})
	}
}

// rounds is how many turns the phases of BenchmarkCall take.
const rounds = 10

// scale is how many round trips each phase of BenchmarkCall makes per b.N: the NATS
// and service phases are 10 to 100 times faster than a durable credit, and measured
// over as much time.
var scale = [3]int{20, 20, 1}

// run runs f n times, conc at once, and returns how long that took.
func run(b *testing.B, conc, n int, f func(i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
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
	return time.Since(start)
}

func perSecond(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
