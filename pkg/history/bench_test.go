package history_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstream"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/natsembed"
	"uneventful.dev/uneventful/pkg/sqlitedb"
)

// brokerEnv makes this test binary a broker process for BenchmarkConsume (see runBroker).
const brokerEnv = "HISTORY_BENCH_BROKER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(brokerEnv); dir != "" {
		runBroker(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// BenchmarkConsume measures Consume copying b.N events from JetStream into the store.
// The NATS server and the publisher of the events run in a child process, so
// cpu-µs/event is the consumer's own CPU time (user + system of this process, SQLite,
// checkpoints and GC included) per event.
//
// backlog: the events are all in the stream first; ns/op is the time to consume one.
// live: the child publishes them at 4,000/s as the outbox does (every 5 ms a burst of 20,
// published asynchronously, acknowledgements awaited) while Consume runs, so ns/op is
// that pace; p50-ms and p99-ms are from an event's time (when it was published) to its
// recorded time (the start of the transaction that stored it).
//
//	go test -run x -bench Consume -benchtime 20000x ./pkg/history/
func BenchmarkConsume(b *testing.B) {
	b.Run("backlog", func(b *testing.B) { benchConsume(b, 0) })
	b.Run("live-4000/s", func(b *testing.B) { benchConsume(b, 4000) })
}

func benchConsume(b *testing.B, rate int) {
	b.ReportAllocs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	br := startBroker(b)
	nc, err := nats.Connect(br.url)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	path := filepath.Join(b.TempDir(), "history.db")
	store, err := history.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if rate == 0 {
		<-br.publish(b.N, 0)
	}

	b.ResetTimer()
	cpu := cpuTime()
	done := make(chan error, 1)
	go func() { done <- history.Consume(ctx, nc, store, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	if rate > 0 {
		br.publish(b.N, rate)
	}
	waited := waitPosition(b, path, b.N)
	cpu = cpuTime() - cpu - waited
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	if rate > 0 {
		p50, p99 := recordLatency(b, path)
		b.ReportMetric(p50, "p50-ms")
		b.ReportMetric(p99, "p99-ms")
	}
}

// waitPosition waits until the history at path holds position n, looking every 5 ms,
// and returns the CPU time it took to look (on a thread of its own), which is not the
// consumer's.
func waitPosition(b *testing.B, path string, n int) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	began := threadCPUTime()
	db, err := sqlitedb.Open(path, true, sqlitedb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, err := db.Prepare(`SELECT count(*) FROM history WHERE position = ?`)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for found := 0; found == 0; time.Sleep(5 * time.Millisecond) {
		if err := st.QueryRow(n).Scan(&found); err != nil {
			b.Fatal(err)
		}
	}
	return threadCPUTime() - began
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// threadCPUTime is the calling thread's user + system CPU time.
func threadCPUTime() time.Duration { return rusage(1) } // RUSAGE_THREAD (Linux)

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// recordLatency returns the median and 99th percentile, in ms, of recorded - time over
// the history at path.
func recordLatency(b *testing.B, path string) (p50, p99 float64) {
	db, err := sqlitedb.Open(path, true, sqlitedb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT envelope ->> '$.time', recorded FROM history`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ms []float64
	for rows.Next() {
		var t, r string
		if err := rows.Scan(&t, &r); err != nil {
			b.Fatal(err)
		}
		tt, err1 := time.Parse(time.RFC3339Nano, t)
		rt, err2 := time.Parse(time.RFC3339Nano, r)
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		ms = append(ms, float64(rt.Sub(tt).Microseconds())/1000)
	}
	if err := rows.Err(); err != nil || len(ms) == 0 {
		b.Fatal(err, len(ms))
	}
	slices.Sort(ms)
	return ms[len(ms)/2], ms[len(ms)*99/100]
}

// broker is a child process running a NATS server and publishing events on request.
type broker struct {
	url string
	in  io.Writer
	out *bufio.Scanner
}

func startBroker(b *testing.B) *broker {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), brokerEnv+"="+b.TempDir())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close(); cmd.Wait() }) //nolint:errcheck
	br := &broker{in: in, out: bufio.NewScanner(out)}
	if !br.out.Scan() {
		b.Fatal("broker did not start")
	}
	br.url = br.out.Text()
	return br
}

// publish asks the broker to publish n events at rate per second (0: at once); the
// channel is closed when they are all stored in the stream.
func (br *broker) publish(n, rate int) <-chan struct{} {
	fmt.Fprintf(br.in, "%d %d\n", n, rate)
	done := make(chan struct{})
	go func() { br.out.Scan(); close(done) }()
	return done
}

// runBroker is the child process: a NATS server with JetStream storing in dir; it prints
// its URL, then for each line "n rate" on stdin publishes n events and prints a line.
func runBroker(dir string) {
	s, err := natsembed.Start(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir}, nil, 0)
	if err != nil {
		panic(err)
	}
	defer natsembed.Stop(s)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		panic(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		panic(err)
	}
	if err := eventstream.Ensure(context.Background(), js); err != nil {
		panic(err)
	}
	fmt.Println(s.ClientURL())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var n, rate int
		if _, err := fmt.Sscan(in.Text(), &n, &rate); err != nil {
			panic(err)
		}
		publishEvents(js, n, rate)
		fmt.Println("published")
	}
}

// publishEvents publishes n wallet events over 1,000 wallets, as the writer's outbox
// would: in bursts, asynchronously, each burst's acknowledgements awaited.
func publishEvents(js jetstream.JetStream, n, rate int) {
	const wallets = 1000
	ids := make([]string, wallets)
	versions := make([]int64, wallets)
	for i := range ids {
		ids[i] = event.NewID()
	}
	burst, tick := 1000, time.NewTicker(5*time.Millisecond)
	defer tick.Stop()
	if rate > 0 {
		burst = max(1, rate/200)
	}
	for sent := 0; sent < n; {
		if rate > 0 {
			<-tick.C
		}
		for i := 0; i < burst && sent < n; i, sent = i+1, sent+1 {
			w := sent % wallets
			versions[w]++
			cmd := event.NewID()
			e := event.Envelope{ID: event.NewID(), Stream: "wallet." + ids[w], Version: versions[w], Type: "credited",
				Data:      json.RawMessage(fmt.Sprintf(`{"amount":"5.00","balance":"%d.00"}`, 5*versions[w])),
				CommandID: cmd, CausationID: cmd, Time: time.Now()}
			b, _ := json.Marshal(e)
			msg := &nats.Msg{Subject: event.Subject(e.Stream), Data: b, Header: nats.Header{nats.MsgIdHdr: []string{e.ID}}}
			if _, err := js.PublishMsgAsync(msg); err != nil {
				panic(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(10 * time.Second):
			panic("publish acknowledgements timed out")
		}
	}
}
