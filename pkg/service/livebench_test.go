package service_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/sse"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// liveProcesses starts NATS and Redis in this process and the wallet writer, server and
// history writer as processes of their own, so each one's memory is its own.
// Their profilers listen at the returned addresses.
func liveProcesses(b *testing.B) (s *stacktest.Stack, srv, hist *stacktest.Process, srvPprof, histPprof string) {
	s = stacktest.StartParts(b)
	bins := stacktest.Build(b, writerPkg, serverPkg, historyPkg)
	srvPprof = "127.0.0.1:" + strconv.Itoa(stacktest.FreePort(b))
	histPprof = "127.0.0.1:" + strconv.Itoa(stacktest.FreePort(b))
	w := s.Process("wallet_writer", bins[writerPkg], "WALLET_DB="+s.WalletDB)
	srv = s.Process("wallet_server", bins[serverPkg], "PPROF_ADDR="+srvPprof)
	hist = s.Process("history_writer", bins[historyPkg], "HISTORY_DB="+s.HistoryDB, "PPROF_ADDR="+histPprof)
	w.Start()
	srv.Start()
	hist.Start()
	s.URL, s.WriterURL, s.HistoryURL = srv.URL, w.URL, hist.URL
	return s, srv, hist, srvPprof, histPprof
}

// goInUseKiB collects the garbage of the process whose profiler is at addr and returns
// the memory its Go heap and its goroutine stacks use (HeapInuse, StackInuse: the
// profile's "# HeapInuse = N" and "# Stack = N / StackSys").
func goInUseKiB(b *testing.B, addr string) (heap, stack float64) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1&gc=1")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	read := func(name string) float64 {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "# "+name+" = "); ok {
				v, _, _ = strings.Cut(v, " / ")
				n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					b.Fatal(err)
				}
				return n / 1024
			}
		}
		b.Fatalf("no %s in the heap profile", name)
		return 0
	}
	return read("HeapInuse"), read("Stack")
}

// rssKiB reads a process's resident memory.
func rssKiB(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// openStreams opens one stream per url, 16 at a time (as subscribers come, not all in
// the same millisecond), and returns once every one has its headers.
func openStreams(ctx context.Context, b *testing.B, urls []string, h func(i int) sse.Handler) *sync.WaitGroup {
	var open atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(urls), MaxConnsPerHost: 0}}
	opening := make(chan struct{}, 16)
	for i, u := range urls {
		wg.Add(1)
		opening <- struct{}{}
		go func() {
			defer wg.Done()
			var once sync.Once
			f := sse.Follower{Client: client, Connected: func(int64) { open.Add(1); once.Do(func() { <-opening }) }}
			f.Follow(ctx, u, 0, h(i)) //nolint:errcheck // ends with ctx
		}()
	}
	stacktest.Eventually(b, 120*time.Second, func() error {
		if n := open.Load(); n < int64(len(urls)) {
			return fmt.Errorf("%d of %d streams open", n, len(urls))
		}
		return nil
	})
	return &wg
}

// BenchmarkLiveIdleSubscribers measures the memory of 1,000 idle subscribers: 1,000
// entity streams on the wallet server (never-written wallets) and 1,000 history streams
// (?after=end), as the growth of each process's resident memory. NATS holds one
// subscription per server whatever the number of subscribers.
//
//	go test -run x -bench LiveIdleSubscribers -benchtime 1x ./pkg/service/
//
// With LIVE_PROFILE_DIR=<dir> it also saves each process's heap profile and goroutine
// stacks there, taken with the subscribers open (saveProfiles).
func BenchmarkLiveIdleSubscribers(b *testing.B) {
	const n = 1000
	s, srv, hist, srvPprof, histPprof := liveProcesses(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idle := func(int) sse.Handler { return func(sse.Event) error { return nil } }
	// Warm both up (connections, goroutines, pools) with a few streams first.
	warm := openStreams(ctx, b, []string{walletURL(s, newWallet(), "events"), s.HistoryURL + "/history/events?after=end"}, idle)
	srvBefore, histBefore := rssKiB(b, srv.PID()), rssKiB(b, hist.PID())
	srvHeapBefore, srvStackBefore := goInUseKiB(b, srvPprof)
	histHeapBefore, histStackBefore := goInUseKiB(b, histPprof)
	entity := make([]string, n)
	all := make([]string, n)
	for i := range n {
		entity[i] = walletURL(s, newWallet(), "events")
		all[i] = s.HistoryURL + "/history/events?after=end"
	}
	wg := openStreams(ctx, b, append(entity, all...), idle)
	time.Sleep(2 * time.Second)                          // let the processes settle (GC) before reading their memory
	if dir := os.Getenv("LIVE_PROFILE_DIR"); dir != "" { // where the memory goes
		saveProfiles(b, dir, map[string]string{"server": srvPprof, "history": histPprof})
	}
	srvKiB := (rssKiB(b, srv.PID()) - srvBefore) / n
	histKiB := (rssKiB(b, hist.PID()) - histBefore) / n
	b.ReportMetric(srvKiB, "server-RSS-KiB/subscriber")
	b.ReportMetric(histKiB, "history-RSS-KiB/subscriber")
	srvHeap, srvStack := goInUseKiB(b, srvPprof)
	histHeap, histStack := goInUseKiB(b, histPprof)
	b.ReportMetric((srvHeap+srvStack-srvHeapBefore-srvStackBefore)/n, "server-Go-KiB/subscriber")
	b.ReportMetric((srvStack-srvStackBefore)/n, "server-stack-KiB/subscriber")
	b.ReportMetric((histHeap+histStack-histHeapBefore-histStackBefore)/n, "history-Go-KiB/subscriber")
	b.ReportMetric((histStack-histStackBefore)/n, "history-stack-KiB/subscriber")
	cancel()
	wg.Wait()
	warm.Wait()
}

// saveProfiles writes each process's heap profile (after a collection) and goroutine
// stacks to dir: <name>.heap (go tool pprof -sample_index=inuse_space) and
// <name>.goroutines.
func saveProfiles(b *testing.B, dir string, addrs map[string]string) {
	for name, addr := range addrs {
		for file, path := range map[string]string{name + ".heap": "heap?gc=1", name + ".goroutines": "goroutine?debug=1"} {
			resp, err := http.Get("http://" + addr + "/debug/pprof/" + path)
			if err != nil {
				b.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, file), raw, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkLiveFanout measures 1,000 subscribers, one per wallet, while spread credits
// run over those 1,000 wallets from 64 clients for 10 s: events delivered per second and
// the delay from the writer's reply reaching the client to the subscriber receiving the
// event (p50, p99), beside the credit rate of the same load without subscribers.
//
//	go test -run x -bench LiveFanout -benchtime 1x ./pkg/service/
func BenchmarkLiveFanout(b *testing.B) {
	const wallets, clients, run = 1000, 64, 10 * time.Second
	s, _, _, _, _ := liveProcesses(b)
	ids := newWallets(wallets)
	load := func(replied func(id string, version int64, at time.Time)) (int, error) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
		var done atomic.Int64
		var firstErr atomic.Value
		end := time.Now().Add(run)
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					id := ids[rand.IntN(len(ids))]
					resp, err := client.Post(walletURL(s, id, "credit"), "application/json", strings.NewReader(`{"amount": 1}`))
					if err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					at := time.Now()
					etag := resp.Header.Get("ETag")
					resp.Body.Close()
					if resp.StatusCode != 200 {
						continue
					}
					v, _ := strconv.ParseInt(strings.Trim(etag, `"`), 10, 64)
					if replied != nil {
						replied(id, v, at)
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		if err, ok := firstErr.Load().(error); ok {
			return 0, err
		}
		return int(done.Load()), nil
	}
	base, err := load(nil)
	if err != nil {
		b.Fatal(err)
	}

	var mu sync.Mutex
	replies := map[string]time.Time{}
	received := map[string]time.Time{}
	var delivered atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	urls := make([]string, wallets)
	for i, id := range ids {
		urls[i] = walletURL(s, id, "events") + "?after=end"
	}
	wg := openStreams(ctx, b, urls, func(i int) sse.Handler {
		return func(e sse.Event) error {
			at := time.Now()
			delivered.Add(1)
			mu.Lock()
			received[ids[i]+"/"+strconv.FormatInt(e.ID, 10)] = at
			mu.Unlock()
			return nil
		}
	})
	began := time.Now()
	n, err := load(func(id string, v int64, at time.Time) {
		mu.Lock()
		replies[id+"/"+strconv.FormatInt(v, 10)] = at
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	stacktest.Eventually(b, 60*time.Second, func() error {
		if d := delivered.Load(); d < int64(n) {
			return fmt.Errorf("%d of %d events delivered", d, n)
		}
		return nil
	})
	elapsed := time.Since(began)
	cancel()
	wg.Wait()
	var delays []time.Duration
	for k, at := range replies {
		r, ok := received[k]
		if !ok {
			b.Fatalf("event %s never delivered", k)
		}
		delays = append(delays, max(0, r.Sub(at)))
	}
	slices.Sort(delays)
	b.ReportMetric(float64(base)/run.Seconds(), "credits/s-without")
	b.ReportMetric(float64(n)/run.Seconds(), "credits/s-with")
	b.ReportMetric(float64(delivered.Load())/elapsed.Seconds(), "delivered/s")
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
}
