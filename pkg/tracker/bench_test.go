package tracker_test

import (
	"bufio"
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/sqlitedb"
	"uneventful.dev/uneventful/pkg/tracker"
)

// benchHistory stores about n events of the mixed flows (payments credited, payments
// parked, casual's cross-domain flow, HTTP commands, a few payments waiting) beginning at
// t0, one millisecond apart, in a real history served over HTTP.
func benchHistory(b *testing.B, n int, t0 time.Time) (string, string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "history.db")
	store, srv := historyServerAt(b, path)
	f := newFlows(t0, time.Millisecond)
	for f.n = 0; len(f.events) < n; {
		f.mixed(100)
		if len(f.events) >= 100_000 || len(f.events) >= n {
			appendAll(b, store, f.events, 1000)
			n -= len(f.events)
			f.events = f.events[:0]
		}
	}
	newest, err := store.Newest(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return path, srv.URL, newest
}

// BenchmarkReplay measures the tracker's start: reading a history of 1,000,000 events
// in bulk (GET /history/bulk over loopback, history and tracker in this process) until
// it serves, with the events inside the window (every item kept) and outside it (every
// completed item skipped), beside the ceiling: the same rows read raw from the
// history's SQLite file (position and envelope scanned, nothing decoded). TRACKER_BENCH_EVENTS sets
// another size.
//
//	go test -run x -bench Replay -benchtime 1x ./pkg/tracker/
func BenchmarkReplay(b *testing.B) {
	events := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("TRACKER_BENCH_EVENTS")); err == nil && n > 0 {
		events = n // a smaller history, for profiles
	}
	for _, tc := range []struct {
		name string
		age  time.Duration
	}{{"in_window", time.Hour}, {"outside_window", 30 * 24 * time.Hour}} {
		b.Run(tc.name, func(b *testing.B) {
			path, url, newest := benchHistory(b, events, time.Now().UTC().Add(-tc.age))
			raw, rawCPU := rawRead(b, path, newest)
			b.ResetTimer()
			var d, cpu time.Duration
			var items int
			for range b.N {
				tr := newTracker(b, url, tracker.Options{})
				runtime.GC()
				began, cpu0 := time.Now(), cpuTime()
				if err := tr.Replay(context.Background()); err != nil {
					b.Fatal(err)
				}
				d, cpu = time.Since(began), cpuTime()-cpu0
				if !tr.Ready() || tr.Position() != newest {
					b.Fatalf("replayed to %d of %d", tr.Position(), newest)
				}
				c := tr.Counters()
				items = c.InFlight + c.Completed
			}
			b.StopTimer()
			b.ReportMetric(d.Seconds(), "s/replay")
			b.ReportMetric(float64(newest)/d.Seconds(), "events/s")
			b.ReportMetric(float64(newest)/raw.Seconds(), "raw_events/s")
			b.ReportMetric(raw.Seconds()/d.Seconds(), "ratio_to_raw")
			b.ReportMetric(float64(items), "items_kept")
			// CPU time of this process (history server and tracker) per event: what the
			// machine's load does not change.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(newest), "cpu_ns/event")
			b.ReportMetric(float64(rawCPU.Nanoseconds())/float64(newest), "raw_cpu_ns/event")
		})
	}
}

// rawRead reads every row of the history's file as a reader without any model would:
// what a bulk line holds (the position and the stored envelope) into sql.RawBytes, in
// position order. It returns the second pass's time
// (the first warms the page cache, as the history's own reads are warm).
func rawRead(b *testing.B, path string, newest int64) (time.Duration, time.Duration) {
	b.Helper()
	db, err := sqlitedb.Open(path, true, sqlitedb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var d, cpu time.Duration
	for range 2 {
		began, cpu0 := time.Now(), cpuTime()
		rows, err := db.Query(`SELECT position, envelope FROM history ORDER BY position`)
		if err != nil {
			b.Fatal(err)
		}
		var cols [2]sql.RawBytes
		ptrs := make([]any, len(cols))
		for i := range cols {
			ptrs[i] = &cols[i]
		}
		var n int64
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil || n != newest {
			b.Fatalf("raw read: %d rows of %d: %v", n, newest, err)
		}
		rows.Close()
		d, cpu = time.Since(began), cpuTime()-cpu0
	}
	return d, cpu
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMemory measures the model's heap: bytes per item in flight (a payment waiting
// in its queue; casual's message being processed in a1 after b1 and b2), and the heap
// kept by 1,000,000 items completed outside the window (payments credited: 4,000,000
// events) and by 1,000,000 HTTP commands outside it.
//
//	go test -run x -bench Memory -benchtime 1x ./pkg/tracker/
func BenchmarkMemory(b *testing.B) {
	now := time.Now().UTC()
	perItem := func(b *testing.B, n int, flow func(f *flows), t0 time.Time) float64 {
		m := tracker.NewModel(now.Add(-7 * 24 * time.Hour))
		f := newFlows(t0, time.Millisecond)
		var pos int64
		before := heap()
		for range n {
			flow(f)
			for _, e := range f.events {
				pos++
				m.Apply(history.Entry{Position: pos, Envelope: e})
			}
			f.events = f.events[:0]
		}
		after := heap()
		runtime.KeepAlive(m)
		return float64(after-before) / float64(n)
	}
	b.Run("in_flight_queued", func(b *testing.B) {
		b.ReportMetric(perItem(b, 100_000, func(f *flows) { f.waiting() }, now), "bytes/item")
	})
	b.Run("in_flight_processing_after_3_queues", func(b *testing.B) {
		b.ReportMetric(perItem(b, 100_000, func(f *flows) {
			b1 := f.enqueue("B", "b1", "", "")
			f.op("B", "dequeued", "b1", b1, b1, qchange{Lease: "l"})
			b2 := f.enqueue("B", "b2", b1, "b1/"+b1)
			f.op("B", "committed", "b1", b1, b1, qchange{})
			f.op("B", "dequeued", "b2", b2, b1, qchange{Lease: "l"})
			a1 := f.enqueue("A", "a1", b1, "b2/"+b2)
			f.op("B", "committed", "b2", b2, b1, qchange{})
			f.op("A", "dequeued", "a1", a1, b1, qchange{Lease: "l"})
		}, now), "bytes/item")
	})
	old := now.Add(-30 * 24 * time.Hour)
	b.Run("1M_completed_payments_outside_window", func(b *testing.B) {
		b.ReportMetric(perItem(b, 1_000_000, func(f *flows) { f.payment() }, old)*1_000_000, "bytes_kept")
	})
	b.Run("1M_commands_outside_window", func(b *testing.B) {
		b.ReportMetric(perItem(b, 1_000_000, func(f *flows) { f.command() }, old)*1_000_000, "bytes_kept")
	})
	b.Run("1M_completed_payments_in_window", func(b *testing.B) { // for scale
		b.ReportMetric(perItem(b, 1_000_000, func(f *flows) { f.payment() }, now), "bytes/item")
	})
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkLiveLag measures the time from an event's commit to the history (Append
// returns) to its item on the page's stream (GET /tracker/api/events, read by a client as
// the page's EventSource reads it): the history stores payments' events one commit each,
// 500 a second, the tracker follows GET /history/events and the client reads the page's
// stream, all over loopback in this process.
//
//	go test -run x -bench LiveLag -benchtime 5000x ./pkg/tracker/
func BenchmarkLiveLag(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, srv := historyServer(b)
	base := startTracker(b, srv.URL)
	waitReadyB(b, base)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/tracker/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	received := make(chan [2]int64, 1024) // position, unix nanos
	go func() {
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(received)
				return
			}
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				p, _ := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
				received <- [2]int64{p, time.Now().UnixNano()}
			}
		}
	}()
	f := newFlows(time.Now().UTC(), time.Millisecond)
	for len(f.events) < b.N {
		f.payment()
	}
	committed := make([]int64, b.N+1)
	lags := make([]time.Duration, 0, b.N)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		committed[i+1] = time.Now().UnixNano() // the commit begins: its fsync counts in the lag
		if _, err := store.Append(ctx, f.events[i:i+1]); err != nil {
			b.Fatal(err)
		}
		for drained := false; !drained; {
			select {
			case r := <-received:
				lags = append(lags, time.Duration(r[1]-committed[r[0]]))
			default:
				drained = true
			}
		}
	}
	for len(lags) < b.N {
		r, ok := <-received
		if !ok {
			b.Fatal("the page's stream ended")
		}
		lags = append(lags, time.Duration(r[1]-committed[r[0]]))
	}
	b.StopTimer()
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max_ms")
}

func waitReadyB(b *testing.B, base string) {
	b.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("the tracker was not ready in 30s")
		}
	}
}
