package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/domains/lock"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// benchStack is a wallet stack (NATS, Redis, wallet writer and server) with the lock's
// writer and server in the same process: the wallet's credits are the ceiling the lock's
// commands are compared with, on the same parts in the same run.
func benchStack(b *testing.B) (walletURL, lockURL string) {
	b.Helper()
	s := stacktest.Start(b)
	lockURL, _ = s.RunService("lock_server", func(ctx context.Context, c service.Common) error {
		return service.RunServer(ctx, service.ServerConfig{Common: c}, lock.Domain{})
	})
	db := b.TempDir() + "/lock.db"
	writerURL, _ := s.RunService("lock_writer", func(ctx context.Context, c service.Common) error { return writerserviceRun(ctx, c, db) })
	stacktest.WaitReady(b, lockURL)
	stacktest.WaitReady(b, writerURL)
	return s.URL, lockURL
}

// parallel runs n operations over workers goroutines (op(worker, i)) and returns the
// rate per second.
func parallel(workers, n int, op func(w, i int)) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				op(w, i)
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkUncontendedPairs: acquire+release pairs per second, 16 clients each on its
// own lock, through HTTP; the ceiling is wallet credits per second (one command each) by
// 16 clients on the same stack, measured first: a pair is two commands.
//
//	go test -run '^$' -bench UncontendedPairs -benchtime 4000x ./services/lock_server
func BenchmarkUncontendedPairs(b *testing.B) {
	walletURL, lockURL := benchStack(b)
	const workers = 16
	wallets := make([]string, workers)
	for i := range wallets {
		wallets[i] = ksuid.New().String()
	}
	bg := context.Background()
	ceiling := parallel(workers, 2*b.N, func(w, _ int) {
		if r := do(bg, b, http.MethodPost, walletURL+"/wallet/"+wallets[w]+"/credit", `{"amount":1}`); r.status != 200 {
			b.Fatalf("credit: %s", r.raw)
		}
	})
	b.ResetTimer()
	pairs := parallel(workers, b.N, func(w, _ int) {
		name := fmt.Sprintf("%s/lock/bench.%d", lockURL, w)
		r := do(bg, b, http.MethodPost, name+"/acquire", `{"holder":"h","ttl":"10s"}`)
		if r.status != 200 {
			b.Fatalf("acquire: %s", r.raw)
		}
		if r := do(bg, b, http.MethodPost, name+"/release", fmt.Sprintf(`{"holder":"h","token":%d}`, r.token())); r.status != 200 {
			b.Fatalf("release: %s", r.raw)
		}
	})
	b.StopTimer()
	b.ReportMetric(pairs, "pairs/s")
	b.ReportMetric(ceiling, "credits/s")
	b.ReportMetric(2*pairs/ceiling, "x_ceiling")
}

// BenchmarkHandOver: the time from a release (or a lease's end) to the next waiter's
// grant reaching its HTTP client, p50 and p99, one lock, one waiter at a time. The
// ceiling is the round trip of one uncontended acquire on the same stack.
//
//	go test -run '^$' -bench HandOver -benchtime 300x ./services/lock_server
func BenchmarkHandOver(b *testing.B) {
	_, lockURL := benchStack(b)
	bg := context.Background()
	s := &lockStack{t: nil, url: lockURL}
	var roundTrip []time.Duration
	for i := range 200 {
		start := time.Now()
		r := do(bg, b, http.MethodPost, fmt.Sprintf("%s/lock/rt.%d/acquire", lockURL, i), `{"holder":"h","ttl":"10s"}`)
		roundTrip = append(roundTrip, time.Since(start))
		if r.status != 200 {
			b.Fatal(r.raw)
		}
	}
	for _, mode := range []string{"release", "expiry"} {
		b.Run(mode, func(b *testing.B) {
			name := lockURL + "/lock/handover." + mode
			var lat []time.Duration
			for range b.N {
				ttl := "10s"
				if mode == "expiry" {
					ttl = "100ms"
				}
				h := do(bg, b, http.MethodPost, name+"/acquire", `{"holder":"a","ttl":"`+ttl+`"}`)
				if h.status != 200 {
					b.Fatalf("holder: %s", h.raw)
				}
				got := make(chan time.Time, 1)
				go func() {
					r := do(bg, b, http.MethodPost, name+"/acquire", `{"holder":"b","ttl":"10s","wait":true}`)
					got <- time.Now()
					if r.status != 200 {
						b.Errorf("waiter: %s", r.raw)
						return
					}
					do(bg, b, http.MethodPost, name+"/release", fmt.Sprintf(`{"holder":"b","token":%d}`, r.token()))
				}()
				waitFor(b, s, "handover."+mode, "b")
				var from time.Time
				if mode == "release" {
					from = time.Now()
					do(bg, b, http.MethodPost, name+"/release", fmt.Sprintf(`{"holder":"a","token":%d}`, h.token()))
				} else {
					from, _ = time.Parse(time.RFC3339Nano, h.body["expires"].(string))
				}
				lat = append(lat, (<-got).Sub(from))
				waitFor(b, s, "handover."+mode) // b released: free again
			}
			b.StopTimer()
			p50, p99 := percentiles(lat)
			c50, c99 := percentiles(roundTrip)
			b.ReportMetric(ms(p50), "p50_ms")
			b.ReportMetric(ms(p99), "p99_ms")
			b.ReportMetric(ms(c50), "acquire_p50_ms")
			b.ReportMetric(ms(c99), "acquire_p99_ms")
		})
	}
}

// waitFor polls the lock until its waiters are want (none: also free of holders).
func waitFor(b *testing.B, s *lockStack, name string, want ...string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r := do(context.Background(), b, http.MethodGet, s.url+"/lock/"+name, "")
		var got []string
		ws, _ := r.body["waiters"].([]any)
		for _, w := range ws {
			got = append(got, w.(map[string]any)["holder"].(string))
		}
		if slices.Equal(got, want) && (len(want) > 0 || r.body["holder"] == nil) {
			return
		}
	}
	b.Fatalf("%s: the waiters are not %v", name, want)
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
