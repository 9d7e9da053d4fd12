package writer_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/writer"
)

// BenchmarkTimerLateness: b.N timers, one per entity, due 20 ms apart (so one is due at a
// time), each fired by the writer; the lateness of each from its At to the decision
// (cmd.Time, recorded in its event) and to the moment the benchmark sees the firing in
// the Redis read model (polled every millisecond). The ceiling, in the same run and at the
// same time: the round trip of a plain command (decide, commit, read model, reply) sent
// between two timers, 10 ms after each At.
//
//	go test -run x -bench TimerLateness -benchtime 500x ./pkg/writer/
func BenchmarkTimerLateness(b *testing.B) {
	p := newParts(b)
	r := startWriter(b, p, tick{}, dbPath(b), writer.Config{})
	c := command.NewClient(p.nc, "tick", 0, 10*time.Second)
	n := b.N
	ids, others := make([]string, n), make([]string, n)
	for i := range ids {
		ids[i], others[i] = ksuid.New().String(), ksuid.New().String()
	}
	const gap = 20 * time.Millisecond
	start := time.Now()
	for _, id := range others[:min(n, 50)] { // warm up; and how long do commands take here?
		tickSend(b, c, id, "pin", tickData{})
	}
	base := time.Now().Add(time.Duration(n/50+1)*time.Since(start) + time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				tickSend(b, c, ids[i], "schedule", tickData{Key: "k", At: base.Add(time.Duration(i) * gap).UnixNano()})
			}
		}()
	}
	wg.Wait()
	if time.Now().After(base) {
		b.Fatal("scheduling took too long: the first timers were due before the last was set")
	}
	b.ResetTimer()
	plain := make([]time.Duration, n)
	wg.Add(1)
	go func() { // the ceiling: a plain command between each two timers
		defer wg.Done()
		for i, id := range others {
			time.Sleep(time.Until(base.Add(time.Duration(i)*gap + gap/2)))
			t0 := time.Now()
			tickSend(b, c, id, "pin", tickData{})
			plain[i] = time.Since(t0)
		}
	}()
	seen := make([]time.Duration, n)
	ctx := context.Background()
	for i, id := range ids {
		at := base.Add(time.Duration(i) * gap)
		for {
			doc, ok, err := p.proj.Get(ctx, "tick."+id)
			if err != nil {
				b.Fatal(err)
			}
			if ok && bytes.Contains(doc, []byte(`"fired"`)) {
				seen[i] = time.Since(at)
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	b.StopTimer()
	decided := make([]time.Duration, n)
	for i, id := range ids {
		f := firings(b, r.store, id)
		if len(f) != 1 {
			b.Fatalf("%s fired %d times", id, len(f))
		}
		decided[i] = time.Duration(f[0].Time - f[0].At)
	}
	pct := func(d []time.Duration, q float64) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[int(q*float64(len(s)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(decided, 0.5), "decided-p50-ms")
	b.ReportMetric(pct(decided, 0.99), "decided-p99-ms")
	b.ReportMetric(pct(seen, 0.5), "seen-p50-ms")
	b.ReportMetric(pct(seen, 0.99), "seen-p99-ms")
	b.ReportMetric(pct(plain, 0.5), "command-p50-ms")
	b.ReportMetric(pct(plain, 0.99), "command-p99-ms")
}
