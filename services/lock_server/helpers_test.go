package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/domains/lock"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/service/writerservice"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// lockStack is NATS, Redis, a lock writer and a lock server, in-process.
type lockStack struct {
	*stacktest.Stack
	t         *testing.T
	db        string
	url       string // the lock server
	writerURL string
	stopW     func()
}

func startLock(t *testing.T) *lockStack {
	t.Helper()
	s := &lockStack{Stack: stacktest.StartParts(t), t: t}
	if os.Getenv("LOCK_TEST_LOG") != "" {
		s.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s.db = filepath.Join(t.TempDir(), "lock_writer", "datastore.db")
	s.startWriter()
	s.url, _ = s.RunService("lock_server", func(ctx context.Context, c service.Common) error {
		return service.RunServer(ctx, service.ServerConfig{Common: c}, lock.Domain{})
	})
	stacktest.WaitReady(t, s.url)
	return s
}

func (s *lockStack) startWriter() {
	s.writerURL, s.stopW = s.RunService("lock_writer", func(ctx context.Context, c service.Common) error {
		return writerservice.Run(ctx, writerservice.Config{Common: c, DBPath: s.db}, lock.Domain{})
	})
	stacktest.WaitReady(s.t, s.writerURL)
}

// reply is an HTTP answer: status and JSON body.
type reply struct {
	status int
	body   map[string]any
	raw    string
}

func (r reply) errType() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["type"].(string)
		return s
	}
	return ""
}

func (r reply) token() int64 {
	f, _ := r.body["token"].(float64)
	return int64(f)
}

func do(ctx context.Context, t testing.TB, method, url, body string) reply {
	t.Helper()
	return doWith(ctx, t, method, url, body, nil)
}

// doWith is do with headers.
func doWith(ctx context.Context, t testing.TB, method, url, body string, h http.Header) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return reply{}
		}
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(b)}
	json.Unmarshal(b, &r.body) //nolint:errcheck // raw keeps what is not JSON
	return r
}

func (s *lockStack) post(name, cmd, body string) reply {
	s.t.Helper()
	return do(context.Background(), s.t, http.MethodPost, s.url+"/lock/"+name+"/"+cmd, body)
}

func (s *lockStack) get(name string) reply {
	s.t.Helper()
	return do(context.Background(), s.t, http.MethodGet, s.url+"/lock/"+name, "")
}

// waiters returns the holders waiting on name, in order.
func (s *lockStack) waiters(name string) []string {
	r := s.get(name)
	var hs []string
	ws, _ := r.body["waiters"].([]any)
	for _, w := range ws {
		h, _ := w.(map[string]any)["holder"].(string)
		hs = append(hs, h)
	}
	return hs
}

// waitWaiters waits until name's waiters are want.
func (s *lockStack) waitWaiters(name string, want ...string) {
	s.t.Helper()
	stacktest.Eventually(s.t, 10*time.Second, func() error {
		if got := s.waiters(name); strings.Join(got, ",") != strings.Join(want, ",") {
			return stacktest.Errorf("waiters %v, want %v", got, want)
		}
		return nil
	})
}

// envelope is one stored event.
type envelope struct {
	Version int64           `json:"version"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	Time    time.Time       `json:"time"`
}

// readEnvelopes reads the first n events of name from its event stream.
func (s *lockStack) readEnvelopes(name string, n int) []envelope {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/lock/"+name+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := newLineReader(resp.Body)
	var out []envelope
	for len(out) < n {
		line, err := dec()
		if err != nil {
			s.t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			var e envelope
			if err := json.Unmarshal([]byte(d), &e); err != nil {
				s.t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	return out
}

// sseEvent is one event of GET /lock/{name}/events, its data decoded.
type sseEvent struct {
	typ  string
	data map[string]any
}

// readEvents reads n events of name's event stream from the start.
func (s *lockStack) readEvents(name string, n int) []sseEvent {
	s.t.Helper()
	var out []sseEvent
	for _, e := range s.readEnvelopes(name, n) {
		ev := sseEvent{typ: e.Type}
		if err := json.Unmarshal(e.Data, &ev.data); err != nil {
			s.t.Fatalf("%s/events: event %d: %v", name, e.Version, err)
		}
		out = append(out, ev)
	}
	return out
}

func stacktestBuild(t *testing.T, pkg string) string { return stacktest.Build(t, pkg)[pkg] }

// newLineReader returns a function reading r one line at a time (without its newline).
func newLineReader(r io.Reader) func() (string, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	return func() (string, error) {
		line, err := br.ReadString('\n')
		return strings.TrimRight(line, "\r\n"), err
	}
}

func writerserviceRun(ctx context.Context, c service.Common, db string) error {
	return writerservice.Run(ctx, writerservice.Config{Common: c, DBPath: db}, lock.Domain{})
}
