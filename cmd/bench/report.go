package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func render(figs []figure, d time.Duration, conns int, hello, natsRate, redisRate, sqliteRate float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Every figure below comes from one run of:\n\n```\ngo run ./cmd/bench -duration %s -conns %d\n```\n\n", d, conns)
	fmt.Fprintf(&b, "It builds the services, starts them as separate local processes (redis-server, message_broker "+
		"with JetStream, wallet_writer, history_writer, wallet_server: local mode, as `./run.sh` runs them) on ports of "+
		"its own, measures the ceilings of the parts, then the stack, all on the same machine, with the load generator "+
		"(`pkg/loadgen`, HTTP/1.1 keep-alive) on the same cores. Writes are durable: a reply comes only after the "+
		"SQLite commit (WAL, synchronous=FULL).\n\n")
	fmt.Fprintf(&b, "- date: %s\n- machine: %s, %d cores (GOMAXPROCS %d)\n- %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), goVersion())
	fmt.Fprintf(&b, "## Ceilings, measured in the same run\n\n| ceiling | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| hello-world Go net/http, %d conns | %.0f req/s |\n", conns, hello)
	fmt.Fprintf(&b, "| NATS request/reply, %d in flight on one connection | %.0f req/s |\n", conns, natsRate)
	fmt.Fprintf(&b, "| Redis GET (go-redis, %d clients) | %.0f req/s |\n", conns, redisRate)
	fmt.Fprintf(&b, "| SQLite insert (modernc, WAL, FULL), 100 rows/txn over 1,000 streams | %.0f rows/s |\n\n", sqliteRate)
	fmt.Fprintf(&b, "## The stack\n\n| figure | value | target | ceiling | ratio | note |\n|---|---|---|---|---|---|\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", f.Name, f.Value, f.Target, f.Ceiling, f.Ratio, f.Note)
	}
	return b.String()
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

func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}
