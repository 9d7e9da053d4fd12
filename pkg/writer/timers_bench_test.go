package writer_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/writer"
)

// BenchmarkTimerLateness: b.N timers, one per entity, due 20 ms apart (so one is due at a
// time), each fired by the writer; the lateness of each from its At to the decision
// (cmd.Time, recorded in its event) and to the moment the benchmark sees the firing in
// the Redis read model (polled every millisecond). The ceiling, in the same run: the round
// trip of b.N plain commands sent one at a time (decide, commit, read model, reply).
//
//	go test -run x -bench TimerLateness -benchtime 200x ./pkg/writer/
func BenchmarkTimerLateness(b *testing.B) {
	p := newParts(b)
	r := startWriter(b, p, tick{}, dbPath(b), writer.Config{})
	c := command.NewClient(p.nc, "tick", 0, 10*time.Second)
	n := b.N
	ids := make([]string, n)
	for i := range ids {
		ids[i] = ksuid.New().String()
	}
	plain := make([]time.Duration, n)
	start := time.Now()
	for i, id := range ids {
		t0 := time.Now()
		tickSend(b, c, id, "pin", tickData{})
		plain[i] = time.Since(t0)
	}
	const gap = 20 * time.Millisecond
	base := time.Now().Add(2*time.Since(start) + 500*time.Millisecond) // scheduling as many commands takes about as long
	for i, id := range ids {
		tickSend(b, c, id, "schedule", tickData{Key: "k", At: base.Add(time.Duration(i) * gap).UnixNano()})
	}
	if time.Now().After(base) {
		b.Fatal("scheduling took longer than twice the plain commands: the first timers were due before the last was set")
	}
	b.ResetTimer()
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
