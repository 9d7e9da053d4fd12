package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/loadgen"
)

func render(stages []stage, c ceilings, restart time.Duration, ver verifyResult, seedRate float64, d time.Duration, conns int, plotOut string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Every figure below comes from one run of:\n\n```\ngo run ./cmd/bench -duration %s -conns %d\n```\n\n", d, conns)
	fmt.Fprintf(&b, "It builds the services, starts them as separate local processes (redis-server, message_broker "+
		"with JetStream, wallet_writer, history_writer, wallet_server: local mode, as `./run.sh` runs them) on ports of "+
		"its own, measures the ceilings of the parts, then the stack at each number of stored events, all on the same "+
		"machine, with the load generator (`pkg/loadgen`, HTTP/1.1 keep-alive, in the harness process) on the same "+
		"cores. Writes are durable: a reply comes only after the SQLite commit (WAL, synchronous=FULL); the history "+
		"writer consumes every event meanwhile. Events between stages are seeded through the writer over NATS (the "+
		"command path without HTTP); each stage starts once the history writer has caught up with them.\n\n")
	fmt.Fprintf(&b, "- date: %s\n- machine: %s, %d cores (GOMAXPROCS %d), %s\n- %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), memory(), goVersion())
	fmt.Fprintf(&b, "## Ceilings, measured in the same run\n\nCPU per operation: user + system time of every process (the harness with its load "+
		"generator, the broker, redis-server) over the measured part, divided by the operations.\n\n"+
		"| ceiling | value | CPU per operation |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| hello-world Go net/http, %d conns | %.0f req/s (p99 %s) | %s |\n", conns, c.hello.Rate(), ms(c.hello.P99), us(c.helloCPU))
	fmt.Fprintf(&b, "| NATS request/reply, %d in flight on one connection | %.0f req/s | %s |\n", conns, c.nats, us(c.natsCPU))
	fmt.Fprintf(&b, "| Redis GET (go-redis, %d clients) | %.0f req/s | %s |\n", conns, c.redis, us(c.redisCPU))
	fmt.Fprintf(&b, "| SQLite insert (modernc, WAL, FULL), 100 rows/txn over 1,000 streams | %.0f rows/s | %s |\n\n", c.sqlite, us(c.sqliteCPU))
	fmt.Fprintf(&b, "## Writes and reads by stored events\n\n")
	fmt.Fprintf(&b, "Ratios: writes to the NATS request/reply ceiling (every write crosses one request/reply, which "+
		"requests to one partition share under load), reads to the hello-world HTTP ceiling. Targets (issue 2): writes >= 10,000/s over 1,000 wallets and >= 5,000/s on one hot "+
		"wallet with p99 <= 25 ms; reads >= 25,000/s with p99 <= 10 ms, unchanged at 1,000,000 events.\n\n")
	fmt.Fprintf(&b, "| stored events | credits/s, 1,000 wallets (p99) | ratio | credits/s, 1 hot wallet (p99) | ratio | balance GETs/s (p99) | ratio |\n|---|---|---|---|---|---|---|\n")
	for _, s := range stages {
		fmt.Fprintf(&b, "| %d | %.0f (%s)%s | %.2f | %.0f (%s)%s | %.2f | %.0f (%s)%s | %.2f |\n", s.Stored,
			s.Spread.Rate(), ms(s.Spread.P99), anomalies(s.Spread), s.Spread.Rate()/c.nats,
			s.Hot.Rate(), ms(s.Hot.P99), anomalies(s.Hot), s.Hot.Rate()/c.nats,
			s.Read.Rate(), ms(s.Read.P99), anomalies(s.Read), s.Read.Rate()/c.hello.Rate())
	}
	if len(stages) > 0 && len(stages[0].CPU) > 0 {
		s := stages[0]
		fmt.Fprintf(&b, "\n### Where the CPU goes\n\nCPU time (user + system, from /proc) per credit answered 200 during the spread writes at %d stored events, "+
			"from the end of the warm-up until the history writer had stored every event; %d cores give %s of CPU per credit at the measured rate.\n\n| process | CPU per credit |\n|---|---|\n",
			s.Stored, runtime.NumCPU(), us(cpuAtRate(s.Spread.Rate())))
		for _, c := range s.CPU {
			fmt.Fprintf(&b, "| %s | %s |\n", c.Name, us(c.PerCommand))
		}
		fmt.Fprintf(&b, "| all | %s |\n", us(s.CPUTotal))
		b.WriteString(budget(s, c))
	}
	if plotOut != "" {
		fmt.Fprintf(&b, "\n![reads and writes by stored events](%s)\n", plotOut)
	}
	fmt.Fprintf(&b, "\n## Restart and replay\n\n| figure | value | target | note |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| writer restart (SIGTERM, start) to first credit answered 200 | %s | <= 1 s | %d events stored; state is loaded per entity on first use |\n", ms(restart), ver.Events)
	fmt.Fprintf(&b, "| replay verification (`wallet_writer verify`) | %.0f events/s | >= 1,000,000 events/s | %d events in %.2f s, equal to the state log: %v; ratio to the SQLite insert ceiling %.1f |\n", ver.Rate, ver.Events, ver.Seconds, ver.OK, ver.Rate/c.sqlite)
	fmt.Fprintf(&b, "| seeding: commands straight to the writer over NATS, 256 in flight | %.0f/s | | ratio to the SQLite insert ceiling %.2f |\n", seedRate, seedRate/c.sqlite)
	return b.String()
}

func us(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }

// anomalies names what a load saw besides 200s, e.g. " [503: 12]"; empty if nothing.
func anomalies(r loadgen.Result) string {
	if r.Errors == 0 && len(r.Status) == 1 && r.Status[200] > 0 {
		return ""
	}
	return " [" + statusNote(r) + "]"
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func memory() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return ""
	}
	var kb int64
	fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
	return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
}

func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

// budget compares the CPU a spread credit cost with what the 10,000/s target allows and
// with the part of it no design of this stack avoids: the HTTP request (as the hello-world
// ceiling costs, load generator included) and three durable rows (the writer's event and
// state rows, the history writer's row; the state row is one per wallet per commit, about
// one per credit over 1,000 wallets), at the SQLite ceiling's CPU per row.
func budget(s stage, c ceilings) string {
	allowed := cpuAtRate(10000)
	floor := c.helloCPU + 3*c.sqliteCPU
	return fmt.Sprintf("\nCPU budget: %d cores at 10,000 credits/s allow %s per credit. One HTTP request at the hello-world "+
		"ceiling's cost (%s) and three durable rows at the SQLite ceiling's (3 x %s) already take %s of it; this stack "+
		"spent %s, so %s went to the rest (NATS, JetStream, Redis, the services' own work). At %s per credit these cores "+
		"allow at most %.0f credits/s at full use.\n",
		runtime.NumCPU(), us(allowed), us(c.helloCPU), us(c.sqliteCPU), us(floor), us(s.CPUTotal), us(s.CPUTotal-floor),
		us(s.CPUTotal), float64(cpuAtRate(1))/float64(s.CPUTotal))
}

// cpuAtRate is the CPU time per operation that this machine's cores give at rate
// operations per second.
func cpuAtRate(rate float64) time.Duration {
	return time.Duration(float64(runtime.NumCPU()) * float64(time.Second) / rate)
}
