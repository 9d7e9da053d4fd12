// Package loadgen drives an HTTP/1.1 server with keep-alive connections, as cheaply as a
// load generator can (requests pre-encoded, responses parsed just enough), and reports
// throughput and latency percentiles. It is the benchmark's wrk, in Go.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Request is one request to send; Target picks it per call so that a run can spread
// load over many entities.
type Request struct {
	Method string
	URL    string // absolute: http://host:port/path
	Body   []byte
	Header map[string]string
}

// Config configures a run.
type Config struct {
	Connections int
	Duration    time.Duration
	Warmup      time.Duration             // requests in the warm-up are not counted
	Next        func(conn, i int) Request // the i-th request of connection conn
}

// Result is what a run measured.
type Result struct {
	Requests int64
	Errors   int64 // transport errors
	Status   map[int]int64
	Elapsed  time.Duration
	P50, P90 time.Duration
	P99, Max time.Duration
}

// Rate is requests per second.
func (r Result) Rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%.0f req/s (%d requests, %d errors, status %v), p50 %s p90 %s p99 %s max %s",
		r.Rate(), r.Requests, r.Errors, r.Status, r.P50.Round(time.Microsecond), r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

// Run runs the load and returns what it measured.
func Run(ctx context.Context, cfg Config) Result {
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	type local struct {
		lat    []time.Duration
		status map[int]int64
		errs   int64
	}
	locals := make([]local, cfg.Connections)
	var wg sync.WaitGroup
	for c := 0; c < cfg.Connections; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			l := &locals[c]
			l.status = map[int]int64{}
			var conn *client
			for i := 0; ctx.Err() == nil; i++ {
				req := cfg.Next(c, i)
				if conn == nil {
					var err error
					if conn, err = dial(req.URL); err != nil {
						l.errs++
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				t0 := time.Now()
				status, err := conn.do(req, end)
				d := time.Since(t0)
				if err != nil {
					conn.close()
					conn = nil
					if ctx.Err() == nil && t0.After(measureFrom) {
						l.errs++
					}
					continue
				}
				if t0.After(measureFrom) && time.Now().Before(end) {
					l.lat = append(l.lat, d)
					l.status[status]++
				}
			}
			if conn != nil {
				conn.close()
			}
		}(c)
	}
	wg.Wait()
	res := Result{Status: map[int]int64{}, Elapsed: cfg.Duration}
	var all []time.Duration
	for _, l := range locals {
		all = append(all, l.lat...)
		res.Errors += l.errs
		for k, v := range l.status {
			res.Status[k] += v
		}
	}
	res.Requests = int64(len(all))
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(p*float64(len(all)-1))]
	}
	res.P50, res.P90, res.P99, res.Max = pct(0.50), pct(0.90), pct(0.99), pct(1)
	return res
}

type client struct {
	conn net.Conn
	r    *bufio.Reader
	buf  bytes.Buffer
}

func dial(raw string) (*client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80") // plain HTTP only
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}, nil
}

func (c *client) close() { c.conn.Close() }

// do sends req and reads the response; it returns the status code.
func (c *client) do(req Request, deadline time.Time) (int, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return 0, err
	}
	c.buf.Reset()
	c.buf.WriteString(req.Method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	for k, v := range req.Header {
		c.buf.WriteString(k + ": " + v + "\r\n")
	}
	if req.Body != nil {
		c.buf.WriteString("Content-Length: " + strconv.Itoa(len(req.Body)) + "\r\n")
	}
	c.buf.WriteString("\r\n")
	c.buf.Write(req.Body)
	c.conn.SetDeadline(deadline.Add(5 * time.Second)) //nolint:errcheck
	if _, err := c.conn.Write(c.buf.Bytes()); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, errors.New("short status line")
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := -1
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if len(h) > 16 && (h[0] == 'C' || h[0] == 'c') && bytes.EqualFold(h[:15], []byte("Content-Length:")) {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(h[15:])))
		}
	}
	if length < 0 {
		return 0, errors.New("response without Content-Length")
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}
