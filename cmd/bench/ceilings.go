package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/loadgen"
)

// ceilingHTTP is a hello-world Go HTTP server driven like the wallet server.
func ceilingHTTP(ctx context.Context, conns int, d time.Duration) (loadgen.Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadgen.Result{}, err
	}
	body := []byte(`{"hello":"world"}` + "\n")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body) //nolint:errcheck
	})}
	go srv.Serve(ln) //nolint:errcheck
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"
	return loadgen.Run(ctx, loadgen.Config{Connections: conns, Duration: d, Warmup: time.Second,
		Next: func(int, int) loadgen.Request { return loadgen.Request{Method: "GET", URL: url} }}), nil
}

// ceilingNATS is NATS request/reply through the stack's broker: conns requesters on one
// connection, one responder.
func ceilingNATS(natsURL string, conns int, d time.Duration) (float64, error) {
	resp, err := nats.Connect(natsURL)
	if err != nil {
		return 0, err
	}
	defer resp.Close()
	if _, err := resp.Subscribe("bench.echo", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil { //nolint:errcheck
		return 0, err
	}
	resp.Flush() //nolint:errcheck
	req, err := nats.Connect(natsURL)
	if err != nil {
		return 0, err
	}
	defer req.Close()
	return countFor(conns, d, func() error {
		_, err := req.Request("bench.echo", []byte(`{"amount":"5.00"}`), 5*time.Second)
		return err
	})
}

// ceilingRedis is GET of a small key by conns concurrent clients.
func ceilingRedis(addr string, conns int, d time.Duration) (float64, error) {
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: conns})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Set(ctx, "bench.key", `{"id":"x","version":1,"balance":"5.00"}`, 0).Err(); err != nil {
		return 0, err
	}
	return countFor(conns, d, func() error { return rdb.Get(ctx, "bench.key").Err() })
}

// ceilingSQLite is rows/s appended with modernc SQLite, WAL, synchronous=FULL, in
// transactions of 100 rows, on a table indexed like the event log, over 1,000 streams.
func ceilingSQLite(dir string, d time.Duration) (float64, error) {
	db, err := sqlite.OpenDB(filepath.Join(dir, "ceiling.db"), false, sqlite.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (seq INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL, UNIQUE(stream, version))`); err != nil {
		return 0, err
	}
	versions := make([]int, 1000)
	rows := 0
	start := time.Now()
	for time.Since(start) < d {
		if err := insertBatch(db, versions, rows); err != nil {
			return 0, err
		}
		rows += 100
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

func insertBatch(db *sql.DB, versions []int, n int) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	stmt, err := tx.Prepare(`INSERT INTO t (stream, version, data) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := 0; i < 100; i++ {
		s := (n + i) * 7919 % len(versions)
		versions[s]++
		if _, err := stmt.Exec(fmt.Sprintf("wallet.%027d", s), versions[s], `{"amount":"5.00","balance":"10.00"}`); err != nil {
			return err
		}
	}
	stmt.Close()
	return tx.Commit()
}

// countFor runs f from conns goroutines for d and returns successful calls per second.
func countFor(conns int, d time.Duration, f func() error) (float64, error) {
	var n atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if err := f(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil && n.Load() == 0 {
		return 0, e
	}
	return float64(n.Load()) / d.Seconds(), nil
}
