package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/loadgen"
)

// runRemote measures a stack that is already running at base (e.g. the compose stack
// behind its router) beside a hello-world HTTP ceiling measured in the same run, and
// prints a markdown table. It writes nothing and stores only the credits it sends.
func runRemote(base string, d time.Duration, conns int) (string, error) {
	base = strings.TrimRight(base, "/")
	ctx := context.Background()
	probe := ksuid.New().String()
	if r := loadgen.Run(ctx, loadgen.Config{Connections: 1, Duration: 200 * time.Millisecond, Next: func(int, int) loadgen.Request {
		return loadgen.Request{Method: "POST", URL: base + "/wallet/" + probe + "/credit", Body: []byte(`{"amount": 5}`)}
	}}); r.Status[200] == 0 {
		return "", fmt.Errorf("%s does not answer a credit with 200 (%s)", base, statusNote(r))
	}
	logf("ceiling: hello-world HTTP")
	hello, err := ceilingHTTP(ctx, conns, d)
	if err != nil {
		return "", err
	}
	logf("  %s", hello)
	wallets := make([]string, 1000)
	for i := range wallets {
		wallets[i] = ksuid.New().String()
	}
	credit := func(id string) loadgen.Request {
		return loadgen.Request{Method: "POST", URL: base + "/wallet/" + id + "/credit", Body: []byte(`{"amount": 5}`)}
	}
	logf("writes over 1,000 wallets")
	spread := loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
		Next: func(c, i int) loadgen.Request { return credit(wallets[(c*7919+i)%len(wallets)]) }})
	logf("  %s", spread)
	logf("writes on one hot wallet")
	hot := loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
		Next: func(int, int) loadgen.Request { return credit(wallets[0]) }})
	logf("  %s", hot)
	logf("balance reads")
	read := loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
		Next: func(c, i int) loadgen.Request {
			return loadgen.Request{Method: "GET", URL: base + "/wallet/" + wallets[(c*31+i)%len(wallets)] + "/balance"}
		}})
	logf("  %s", read)

	var b strings.Builder
	fmt.Fprintf(&b, "Measured with `go run ./cmd/bench -url %s -duration %s -conns %d` on %s, %s.\n\n",
		base, d, conns, cpuModel(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "| figure | rate (p99) | ratio to hello-world HTTP (%.0f req/s, same run) |\n|---|---|---|\n", hello.Rate())
	for _, row := range []struct {
		name string
		r    loadgen.Result
	}{{"credits/s, 1,000 wallets", spread}, {"credits/s, 1 hot wallet", hot}, {"balance GETs/s", read}} {
		fmt.Fprintf(&b, "| %s | %.0f (%s)%s | %.2f |\n", row.name, row.r.Rate(), ms(row.r.P99), anomalies(row.r), row.r.Rate()/hello.Rate())
	}
	return b.String(), nil
}
