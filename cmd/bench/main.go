// Command bench measures the wallet stack in local mode (separate processes, as ./run.sh
// runs them) beside the ceilings of its parts measured in the same run, and writes the
// figures to BENCHMARKS.md.
//
//	go run ./cmd/bench [-duration 10s] [-stages 1000,100000,1000000] [-out BENCHMARKS.md]
//	go run ./cmd/bench -url http://localhost   # a stack already running, e.g. under compose
//	go run ./cmd/bench -memory 1000000,10000000 [-entity-cache N]   # the writer's RSS by distinct wallets
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/loadgen"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "measuring time of each load")
	stages := flag.String("stages", "1000,100000,1000000", "stored-event counts at which writes and reads are measured")
	conns := flag.Int("conns", 64, "HTTP connections")
	out := flag.String("out", "BENCHMARKS.md", "file to write (empty: print only)")
	plotOut := flag.String("plot", "docs/benchmarks.png", "PNG plot to write (empty: none)")
	profile := flag.String("profile", "", "save CPU profiles of wallet_writer, history_writer and wallet_server during the first stage's spread writes (<service>.pprof) and balance reads (<service>.reads.pprof) into this directory")
	url := flag.String("url", "", "measure the stack already running at this base URL (e.g. the compose stack) and print a table; starts nothing, writes no file")
	memory := flag.String("memory", "", "instead of the benchmark: credit this many distinct wallets (comma-separated checkpoints) straight to a writer over NATS and print its RSS at each")
	entityCache := flag.Int("entity-cache", 0, "with -memory: the writer's ENTITY_CACHE (0: its default)")
	flag.Parse()
	if *memory != "" {
		counts, err := parseCounts(*memory)
		if err == nil {
			var text string
			if text, err = runMemory(counts, *entityCache); err == nil {
				fmt.Print(text)
				return
			}
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if *url != "" {
		text, err := runRemote(*url, *duration, *conns)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Print(text)
		return
	}
	counts, err := parseCounts(*stages)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -stages:", err)
		os.Exit(2)
	}
	if err := run(*duration, counts, *conns, *out, *plotOut, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseCounts parses a comma-separated list of counts.
func parseCounts(list string) ([]int, error) {
	var counts []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a comma-separated list of counts", list)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// stage is what was measured with about Stored events in the log.
type stage struct {
	Stored            int64
	Spread, Hot, Read loadgen.Result
	CPU               []cpuShare    // CPU time per credit by process, spread writes
	CPUTotal          time.Duration // their sum
}

func run(d time.Duration, counts []int, conns int, out, plotOut, profile string) error {
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
	s.profile = profile != ""
	if s.profile {
		if err := os.MkdirAll(profile, 0o755); err != nil {
			return err
		}
	}
	if err := s.up(); err != nil {
		return err
	}
	ctx := context.Background()
	logf("ceilings")
	var c ceilings
	if _, c.helloCPU, err = cpuPerOp(s, time.Second, func() (ops float64, err error) {
		c.hello, err = ceilingHTTP(ctx, conns, d)
		return float64(c.hello.Requests), err
	}); err != nil {
		return err
	}
	if _, c.natsCPU, err = cpuPerOp(s, 0, func() (ops float64, err error) {
		c.nats, err = ceilingNATS("nats://127.0.0.1:"+benchNATSPort, conns, d)
		return c.nats * d.Seconds(), err
	}); err != nil {
		return err
	}
	if _, c.redisCPU, err = cpuPerOp(s, 0, func() (ops float64, err error) {
		c.redis, err = ceilingRedis("127.0.0.1:"+benchRedisPort, conns, d)
		return c.redis * d.Seconds(), err
	}); err != nil {
		return err
	}
	if _, c.sqliteCPU, err = cpuPerOp(s, 0, func() (ops float64, err error) {
		c.sqlite, err = ceilingSQLite(dir, d)
		return c.sqlite * d.Seconds(), err
	}); err != nil {
		return err
	}
	logf("hello %.0f/s (%s CPU each), nats req/rep %.0f/s (%s), redis GET %.0f/s (%s), sqlite %.0f rows/s (%s)",
		c.hello.Rate(), us(c.helloCPU), c.nats, us(c.natsCPU), c.redis, us(c.redisCPU), c.sqlite, us(c.sqliteCPU))

	wallets := make([]string, 1000)
	for i := range wallets {
		wallets[i] = ksuid.New().String()
	}
	credit := func(id string) loadgen.Request {
		return loadgen.Request{Method: "POST", URL: s.httpURL + "/wallet/" + id + "/credit", Body: []byte(`{"amount": 5}`)}
	}
	var stored int64 // accepted commands so far, one event each
	var stages []stage
	var seedRate float64
	for _, target := range counts {
		if n := int64(target) - stored; n > 0 {
			logf("seeding %d events over NATS", n)
			done, rate, err := seed(wallets, int(n))
			if err != nil {
				return err
			}
			stored += done
			if done > 1000 {
				seedRate = rate
			}
			logf("  %d commands at %.0f/s", done, rate)
		}
		caughtUp, err := waitHistoryIdle(5 * time.Minute)
		if err != nil {
			return err
		}
		logf("history writer caught up after %s", caughtUp.Round(time.Millisecond))
		st := stage{Stored: stored}
		logf("stage %d events: writes over 1,000 wallets", stored)
		var profiling *sync.WaitGroup
		if s.profile && len(stages) == 0 {
			profiling = profileServices(profile, "", d)
		}
		if st.CPU, st.CPUTotal, err = cpuPerOp(s, time.Second, func() (ops float64, err error) {
			st.Spread = loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
				Next: func(c, i int) loadgen.Request { return credit(wallets[(c*7919+i)%len(wallets)]) }})
			logf("  %s", st.Spread)
			_, err = waitHistoryIdle(time.Minute) // its share of the work is done too
			return float64(st.Spread.Status[200]), err
		}); err != nil {
			return err
		}
		if profiling != nil {
			profiling.Wait()
			logf("  CPU profiles in %s (go tool pprof -top %s/wallet_writer.pprof)", profile, profile)
		}
		logf("stage %d events: writes on one hot wallet", stored)
		st.Hot = loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
			Next: func(int, int) loadgen.Request { return credit(wallets[0]) }})
		logf("  %s", st.Hot)
		logf("stage %d events: balance reads", stored)
		if s.profile && len(stages) == 0 {
			profiling = profileServices(profile, ".reads", d)
		}
		st.Read = loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
			Next: func(c, i int) loadgen.Request {
				return loadgen.Request{Method: "GET", URL: s.httpURL + "/wallet/" + wallets[(c*31+i)%len(wallets)] + "/balance"}
			}})
		logf("  %s", st.Read)
		if profiling != nil {
			profiling.Wait()
		}
		stored += st.Spread.Status[200] + st.Hot.Status[200] // warm-up writes add a few more, counted by verify below
		stages = append(stages, st)
	}
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
	text := render(stages, c, restart, ver, seedRate, d, conns, plotOut)
	fmt.Println(text)
	if plotOut != "" {
		if err := plotStages(plotOut, stages, c); err != nil {
			return err
		}
	}
	if out != "" {
		return os.WriteFile(out, []byte(text+keptPart(out)), 0o644)
	}
	return nil
}

// keptMarker starts the part of BENCHMARKS.md that the harness keeps as it is: figures
// measured by other commands (the compose stack, queues), each with its own command.
const keptMarker = "<!-- below: figures from other commands, kept by cmd/bench -->"

func keptPart(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if i := strings.Index(string(b), keptMarker); i >= 0 {
		return "\n" + string(b[i:])
	}
	return ""
}

// ceilings are the parts' rates measured in the same run, and the CPU time each
// operation cost all processes together (the harness, which holds the hello-world server,
// the load generator and the SQLite ceiling, plus the stack's processes: the broker for
// NATS, redis-server for Redis; the idle services add next to nothing).
type ceilings struct {
	hello                                  loadgen.Result
	nats, redis, sqlite                    float64
	helloCPU, natsCPU, redisCPU, sqliteCPU time.Duration
}

// cpuPerOp runs a load, which returns how many operations it measured, and returns the
// CPU time per operation of each process (largest first) and of all of them, counted from
// warmup after the start (when the load's own warm-up ends) to its end.
func cpuPerOp(s *stack, warmup time.Duration, run func() (ops float64, err error)) ([]cpuShare, time.Duration, error) {
	at := make(chan cpuTimes, 1)
	go func() { time.Sleep(warmup); at <- takeCPU(s) }()
	ops, err := run()
	if err != nil {
		return nil, 0, err
	}
	shares, total := perCommand(<-at, takeCPU(s), int64(ops))
	return shares, total, nil
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
	client := command.NewClient(nc, "wallet", 0, 30*time.Second)
	var next, done, failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < 256; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				_, err := client.Send(context.Background(), command.Request{Kind: command.KindCommand,
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
