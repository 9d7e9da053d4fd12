package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
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
	"uneventful.dev/uneventful/pkg/supervise"
	"uneventful.dev/uneventful/pkg/writer"
)

// memPoint is the writer's memory once it had seen Wallets distinct wallets.
type memPoint struct {
	Wallets      int
	RSS, RSSAnon int64   // bytes, from /proc/<pid>/status
	Rate         float64 // credits/s while seeding up to this point
	DBBytes      int64
	AddedRSS     int64 // RSS change since the previous point
	AddedWallets int
}

// runMemory starts redis, the broker and a wallet writer (ENTITY_CACHE=cache when cache >
// 0), credits counts[len-1] distinct wallets once each straight to the writer over NATS
// (many requests per message, as servers send them), and reads the writer's RSS when it
// has seen each of counts. It returns the figures as a Markdown table.
func runMemory(counts []int, cache int) (string, error) {
	dir, err := os.MkdirTemp("", "uneventful-bench-memory-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	s, err := newStack(dir)
	if err != nil {
		return "", err
	}
	defer s.down()
	// ports of its own, free now: never the benchmark's, which another run may hold
	var ports [5]string
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return "", err
		}
	}
	natsPort, natsHTTP, redisPort, writerHTTP := ports[0], ports[1], ports[2], ports[3]
	s.env = append(os.Environ(), "NATS_URL=nats://127.0.0.1:"+natsPort, "REDIS_ADDR=127.0.0.1:"+redisPort,
		"DATA_DIR="+s.data, "LOG_LEVEL=warn")
	if err := os.MkdirAll(s.data, 0o755); err != nil {
		return "", err
	}
	redis, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not found: apt-get install redis-server")
	}
	rp, err := supervise.Start(supervise.Spec{Path: redis, Args: s.redisArgs(redisPort), Log: filepath.Join(s.data, "redis.log")})
	if err != nil {
		return "", err
	}
	s.procs["redis"] = rp
	if err := s.waitReady("redis", supervise.RedisPing("127.0.0.1:"+redisPort)); err != nil {
		return "", err
	}
	if err := s.start("message_broker", s.bin+"/message_broker", "NATS_PORT="+natsPort, "NATS_HTTP_PORT="+natsHTTP,
		"NATS_STORE_DIR="+filepath.Join(s.data, "nats")); err != nil {
		return "", err
	}
	if err := s.waitReady("message_broker", supervise.HTTP("http://127.0.0.1:"+natsHTTP+"/healthz")); err != nil {
		return "", err
	}
	env := []string{"HTTP_ADDR=127.0.0.1:" + writerHTTP}
	if cache > 0 {
		env = append(env, "ENTITY_CACHE="+strconv.Itoa(cache))
	}
	if err := s.start("wallet_writer", s.bin+"/wallet_writer", env...); err != nil {
		return "", err
	}
	if err := s.waitReady("wallet_writer", supervise.HTTP("http://127.0.0.1:"+writerHTTP+"/readyz")); err != nil {
		return "", err
	}
	pid := s.procs["wallet_writer"].PID
	nc, err := nats.Connect("nats://127.0.0.1:" + natsPort)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	client := command.NewClient(nc, "wallet", 0, 60*time.Second)

	start := procRSS(pid)
	logf("writer pid %d, RSS %s at start (ENTITY_CACHE %s)", pid, mib(start.rss), cacheName(cache))
	points := []memPoint{{RSS: start.rss, RSSAnon: start.anon}}
	seeded := 0
	for _, target := range counts {
		n := target - seeded
		if n <= 0 {
			continue
		}
		began := time.Now()
		if err := seedDistinct(client, n); err != nil {
			return "", err
		}
		seeded = target
		m := procRSS(pid)
		p := memPoint{Wallets: target, RSS: m.rss, RSSAnon: m.anon, Rate: float64(n) / time.Since(began).Seconds(), DBBytes: dbBytes(s)}
		prev := points[len(points)-1]
		p.AddedRSS, p.AddedWallets = p.RSS-prev.RSS, p.Wallets-prev.Wallets
		points = append(points, p)
		logf("%d wallets: RSS %s (anon %s), %.0f credits/s, database %s", target, mib(p.RSS), mib(p.RSSAnon), p.Rate, mib(p.DBBytes))
	}
	return renderMemory(points, cache), nil
}

// seedDistinct credits n new wallets once each, 2048 in flight.
func seedDistinct(client *command.Client, n int) error {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 2048; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				_, err := client.Send(context.Background(), command.Request{Kind: command.KindCommand,
					Entity: ksuid.New().String(), Command: "credit", Data: json.RawMessage(`{"amount":"1.00"}`)})
				if err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d credits failed", f, n)
	}
	return nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

type rss struct{ rss, anon int64 }

// procRSS reads VmRSS and RssAnon of pid from /proc.
func procRSS(pid int) rss {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rss{}
	}
	var r rss
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			r.rss = kb << 10
		case "RssAnon:":
			r.anon = kb << 10
		}
	}
	return r
}

func dbBytes(s *stack) int64 {
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(filepath.Join(s.data, "wallet_writer", "datastore.db"+suffix)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func cacheName(cache int) string {
	if cache <= 0 {
		return "default " + strconv.Itoa(writer.DefaultEntityCache)
	}
	return strconv.Itoa(cache)
}

func renderMemory(points []memPoint, cache int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ENTITY_CACHE %s.\n\n", cacheName(cache))
	b.WriteString("| distinct wallets | writer RSS | of which anonymous | RSS added since the row above | per wallet added | seeding credits/s | database |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range points {
		per := "-"
		if p.AddedWallets > 0 {
			per = fmt.Sprintf("%.0f B", float64(p.AddedRSS)/float64(p.AddedWallets))
		}
		rate := "-"
		if p.Rate > 0 {
			rate = fmt.Sprintf("%.0f", p.Rate)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", commas(p.Wallets), mib(p.RSS), mib(p.RSSAnon),
			mib(p.AddedRSS), per, rate, mib(p.DBBytes))
	}
	return b.String()
}

func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
