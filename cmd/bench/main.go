// Command bench measures the wallet stack in local mode (separate processes, as ./run.sh
// runs them) beside the ceilings of its parts measured in the same run, and writes the
// figures to BENCHMARKS.md.
//
//	go run ./cmd/bench [-duration 10s] [-events 1000000] [-out BENCHMARKS.md]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/loadgen"
	"uneventful.dev/uneventful/pkg/writer"
)

type figure struct {
	Name, Value, Target, Ceiling, Ratio, Note string
}

func main() {
	duration := flag.Duration("duration", 10*time.Second, "measuring time of each load")
	events := flag.Int("events", 1_000_000, "events stored before the large-log figures")
	conns := flag.Int("conns", 64, "HTTP connections")
	out := flag.String("out", "BENCHMARKS.md", "file to write (empty: print only)")
	flag.Parse()
	if err := run(*duration, *events, *conns, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(d time.Duration, events, conns int, out string) error {
	dir, err := os.MkdirTemp("", "uneventful-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := newStack(dir)
	if err != nil {
		return err
	}
	defer s.down()
	if err := s.up(); err != nil {
		return err
	}
	ctx := context.Background()
	logf("ceilings")
	hello, err := ceilingHTTP(ctx, conns, d)
	if err != nil {
		return err
	}
	natsRate, err := ceilingNATS("nats://127.0.0.1:"+benchNATSPort, conns, d)
	if err != nil {
		return err
	}
	redisRate, err := ceilingRedis("127.0.0.1:"+benchRedisPort, conns, d)
	if err != nil {
		return err
	}
	sqliteRate, err := ceilingSQLite(dir, d)
	if err != nil {
		return err
	}
	logf("hello %.0f/s, nats req/rep %.0f/s, redis GET %.0f/s, sqlite %.0f rows/s", hello.Rate(), natsRate, redisRate, sqliteRate)

	wallets := make([]string, 1000)
	for i := range wallets {
		wallets[i] = ksuid.New().String()
	}
	credit := func(id string) loadgen.Request {
		return loadgen.Request{Method: "POST", URL: s.httpURL + "/wallet/" + id + "/credit", Body: []byte(`{"amount": 5}`)}
	}
	logf("writes over 1,000 wallets")
	spread := loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
		Next: func(c, i int) loadgen.Request { return credit(wallets[(c*7919+i)%len(wallets)]) }})
	logf("  %s", spread)
	logf("writes on one hot wallet")
	hot := loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
		Next: func(int, int) loadgen.Request { return credit(wallets[0]) }})
	logf("  %s", hot)
	reads := func() loadgen.Result {
		return loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
			Next: func(c, i int) loadgen.Request {
				return loadgen.Request{Method: "GET", URL: s.httpURL + "/wallet/" + wallets[(c*31+i)%len(wallets)] + "/balance"}
			}})
	}
	logf("reads")
	readSmall := reads()
	logf("  %s", readSmall)
	stored := spread.Requests + hot.Requests // lower bound: warm-up writes come on top
	logf("seeding to %d events over NATS", events)
	seeded, seedRate, err := seed(wallets, events-int(stored))
	if err != nil {
		return err
	}
	logf("  %d commands at %.0f/s", seeded, seedRate)
	logf("reads with the large log")
	readLarge := reads()
	logf("  %s", readLarge)
	logf("writer restart")
	restart, err := restartWriter(s, wallets[1])
	if err != nil {
		return err
	}
	logf("  serving again after %s", restart)
	logf("verify")
	ver, err := verify(s)
	if err != nil {
		return err
	}
	logf("  %d events in %.2fs: %.0f events/s, ok=%v", ver.Events, ver.Seconds, ver.Rate, ver.OK)

	ratio := func(v, c float64) string { return fmt.Sprintf("%.2f", v/c) }
	figs := []figure{
		{"HTTP credits, 1,000 wallets, 64 conns", fmt.Sprintf("%.0f/s, p99 %s", spread.Rate(), ms(spread.P99)), ">= 10,000/s, p99 <= 25 ms", fmt.Sprintf("hello-world HTTP %.0f/s", hello.Rate()), ratio(spread.Rate(), hello.Rate()), statusNote(spread)},
		{"HTTP credits, 1 hot wallet, 64 conns", fmt.Sprintf("%.0f/s, p99 %s", hot.Rate(), ms(hot.P99)), ">= 5,000/s, p99 <= 25 ms", fmt.Sprintf("NATS req/rep %.0f/s", natsRate), ratio(hot.Rate(), natsRate), statusNote(hot)},
		{fmt.Sprintf("balance GETs, 64 conns, %d events stored", stored), fmt.Sprintf("%.0f/s, p99 %s", readSmall.Rate(), ms(readSmall.P99)), ">= 25,000/s, p99 <= 10 ms", fmt.Sprintf("hello-world HTTP %.0f/s", hello.Rate()), ratio(readSmall.Rate(), hello.Rate()), statusNote(readSmall)},
		{fmt.Sprintf("balance GETs, 64 conns, %d events stored", ver.Events), fmt.Sprintf("%.0f/s, p99 %s", readLarge.Rate(), ms(readLarge.P99)), "unchanged at 1,000,000 events", fmt.Sprintf("Redis GET %.0f/s", redisRate), ratio(readLarge.Rate(), redisRate), statusNote(readLarge)},
		{"writer restart to first served command", ms(restart), "<= 1 s", "", "", fmt.Sprintf("%d events stored", ver.Events)},
		{"replay verification (wallet_writer verify)", fmt.Sprintf("%.0f events/s", ver.Rate), ">= 1,000,000 events/s", fmt.Sprintf("SQLite insert %.0f rows/s", sqliteRate), ratio(ver.Rate, sqliteRate), fmt.Sprintf("%d events in %.2f s, ok=%v", ver.Events, ver.Seconds, ver.OK)},
		{"seeding commands over NATS (no HTTP), 256 in flight", fmt.Sprintf("%.0f/s", seedRate), "", fmt.Sprintf("SQLite insert %.0f rows/s", sqliteRate), ratio(seedRate, sqliteRate), ""},
	}
	text := render(figs, d, conns, hello.Rate(), natsRate, redisRate, sqliteRate)
	fmt.Println(text)
	if out != "" {
		return os.WriteFile(out, []byte(text), 0o644)
	}
	return nil
}

func statusNote(r loadgen.Result) string {
	var parts []string
	for code, n := range r.Status {
		parts = append(parts, fmt.Sprintf("%d: %d", code, n))
	}
	if r.Errors > 0 {
		parts = append(parts, fmt.Sprintf("transport errors: %d", r.Errors))
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// seed sends n credits straight to the writer over NATS, 256 in flight.
func seed(wallets []string, n int) (int64, float64, error) {
	if n <= 0 {
		return 0, 0, nil
	}
	nc, err := nats.Connect("nats://127.0.0.1:" + benchNATSPort)
	if err != nil {
		return 0, 0, err
	}
	defer nc.Close()
	client := writer.NewClient(nc, "wallet", 0, 30*time.Second)
	var next, done, failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < 256; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				_, err := client.Send(context.Background(), writer.Request{Kind: writer.KindCommand,
					Entity: wallets[i%int64(len(wallets))], Command: "credit", Data: json.RawMessage(`{"amount":"1.00"}`)})
				if err != nil {
					failed.Add(1)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		logf("  %d seeding commands failed", failed.Load())
	}
	return done.Load(), float64(done.Load()) / time.Since(start).Seconds(), nil
}

// restartWriter stops the writer (SIGTERM), starts it, and times until a credit through
// HTTP succeeds.
func restartWriter(s *stack, wallet string) (time.Duration, error) {
	s.stop("wallet_writer")
	start := time.Now()
	if err := s.start("wallet_writer", s.bin+"/wallet_writer", s.envOf("wallet_writer")...); err != nil {
		return 0, err
	}
	for time.Since(start) < 30*time.Second {
		res := loadgen.Run(context.Background(), loadgen.Config{Connections: 1, Duration: 50 * time.Millisecond,
			Next: func(int, int) loadgen.Request {
				return loadgen.Request{Method: "POST", URL: s.httpURL + "/wallet/" + wallet + "/credit", Body: []byte(`{"amount": 5}`)}
			}})
		if res.Status[200] > 0 {
			return time.Since(start), nil
		}
	}
	return 0, fmt.Errorf("writer not serving 30s after restart")
}

type verifyResult struct {
	OK      bool    `json:"ok"`
	Events  int64   `json:"events"`
	Rate    float64 `json:"events_per_second"`
	Seconds float64 `json:"duration_seconds"`
}

func verify(s *stack) (verifyResult, error) {
	cmd := exec.Command(s.bin+"/wallet_writer", "verify")
	cmd.Env = append(append([]string{}, s.env...), "WALLET_DB="+filepath.Join(s.data, "wallet_writer", "datastore.db"))
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	var v verifyResult
	if jerr := json.Unmarshal(b, &v); jerr != nil {
		return v, fmt.Errorf("verify: %v %v: %s", err, jerr, b)
	}
	return v, nil
}
