package history_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/sse"
)

func liveServer(t *testing.T) (*history.Store, *httptest.Server) {
	t.Helper()
	s := openHistory(t)
	r := httpapi.NewRouter()
	history.Mount(r, s)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return s, srv
}

// received is what one subscriber got, checked as it comes.
type received struct {
	positions []int64
	streams   map[string]int64 // the last version seen per stream
}

func (r *received) take(prefix string) sse.Handler {
	return func(e sse.Event) error {
		var env event.Envelope
		if err := e.Decode(&env); err != nil {
			return err
		}
		if n := len(r.positions); n > 0 && e.ID <= r.positions[n-1] {
			return fmt.Errorf("position %d after %d", e.ID, r.positions[n-1])
		}
		if len(env.Stream) < len(prefix) || env.Stream[:len(prefix)] != prefix {
			return fmt.Errorf("event of stream %s under prefix %q", env.Stream, prefix)
		}
		if last := r.streams[env.Stream]; env.Version != last+1 {
			return fmt.Errorf("%s: version %d after %d", env.Stream, env.Version, last)
		}
		r.streams[env.Stream] = env.Version
		r.positions = append(r.positions, e.ID)
		return nil
	}
}

// TestHistoryEventsFollowers: subscribers join at random moments and reconnect with
// Last-Event-ID while events of two streams are appended; each ends with every event
// once, in position order.
func TestHistoryEventsFollowers(t *testing.T) {
	store, srv := liveServer(t)
	const perStream, subscribers = 300, 6
	streams := []string{"wallet.a", "queue.wallet"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	results := make([]*received, subscribers)
	errs := make(chan error, subscribers)
	appended := make(chan struct{})
	for i := range subscribers {
		results[i] = &received{streams: map[string]int64{}}
		prefix := []string{"", "wallet.", "queue."}[i%3]
		want := map[string]int{"": 2 * perStream, "wallet.": perStream, "queue.": perStream}[prefix]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := results[i]
			h := r.take(prefix)
			var f sse.Follower
			f.Retry = 10 * time.Millisecond
			for len(r.positions) < want {
				// Each connection ends after a random number of events: the next resumes
				// after the last one received (Last-Event-ID).
				cctx, stop := context.WithCancel(ctx)
				quota := 1 + rand.IntN(120)
				var last int64
				if n := len(r.positions); n > 0 {
					last = r.positions[n-1]
				}
				err := f.Follow(cctx, srv.URL+"/history/events?stream="+prefix, last, func(e sse.Event) error {
					if err := h(e); err != nil {
						return err
					}
					if quota--; quota == 0 || len(r.positions) == want {
						stop()
					}
					return nil
				})
				stop()
				if !errors.Is(err, context.Canceled) {
					errs <- err
					return
				}
				if ctx.Err() != nil {
					errs <- ctx.Err()
					return
				}
			}
		}()
	}
	go func() { // the writer: small batches of both streams, as the consumer appends them
		defer close(appended)
		v := map[string]int64{}
		for v[streams[1]] < perStream {
			var batch []event.Envelope
			for range 1 + rand.IntN(8) {
				s := streams[rand.IntN(2)]
				if v[s] == perStream {
					continue
				}
				v[s]++
				batch = append(batch, event.Envelope{ID: event.NewID(), Stream: s, Version: v[s], Type: "t", Data: json.RawMessage(`{}`), CommandID: "c", Time: time.Now()})
			}
			if _, err := store.Append(ctx, batch); err != nil {
				t.Error(err)
				return
			}
		}
		for v[streams[0]] < perStream {
			v[streams[0]]++
			if _, err := store.Append(ctx, []event.Envelope{{ID: event.NewID(), Stream: streams[0], Version: v[streams[0]], Type: "t", Data: json.RawMessage(`{}`), CommandID: "c", Time: time.Now()}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("subscribers did not get every event within 60s")
	}
	<-appended
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, r := range results {
		for s, v := range r.streams {
			if v != perStream {
				t.Errorf("subscriber %d: %s ends at version %d, want %d", i, s, v, perStream)
			}
		}
	}
}

func TestHistoryEventsBadInput(t *testing.T) {
	_, srv := liveServer(t)
	for _, tc := range []struct{ name, query, lastID, errType string }{
		{"after not a number", "?after=abc", "", "invalid_after"},
		{"after negative", "?after=-1", "", "invalid_after"},
		{"bad Last-Event-ID", "", "x", "invalid_last_event_id"},
		{"bad stream", "?stream=Wallet.", "", "invalid_stream"},
		{"stream with a space", "?stream=wallet.%20a", "", "invalid_stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/history/events"+tc.query, nil)
			if tc.lastID != "" {
				req.Header.Set("Last-Event-ID", tc.lastID)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error struct{ Type string } }
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q; want 400 JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Type != tc.errType {
				t.Fatalf("error type %q (%v), want %s", body.Error.Type, err, tc.errType)
			}
		})
	}
}

// TestHistoryEventsAfterEnd: ?after=end gives only events appended after the stream
// started, and the headers come at once on an empty history.
func TestHistoryEventsAfterEnd(t *testing.T) {
	store, srv := liveServer(t)
	if _, err := store.Append(context.Background(), evs(1, 3)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	connected := make(chan struct{})
	f := sse.Follower{Connected: func(int64) { close(connected) }}
	got := make(chan sse.Event, 1)
	go f.Follow(ctx, srv.URL+"/history/events?after=end", 0, func(e sse.Event) error { got <- e; cancel(); return nil }) //nolint:errcheck
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("no headers")
	}
	// Connected means the headers came, so the stream has read newest: 3.
	if _, err := store.Append(context.Background(), evs(4, 4)); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e.ID != 4 {
			t.Fatalf("first event %d, want 4", e.ID)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
}

// TestHistoryEventsSlowSubscriberDisconnected: a subscriber that stops reading is
// disconnected (its write times out) while the appends go on unhindered.
func TestHistoryEventsSlowSubscriberDisconnected(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for sse.WriteTimeout")
	}
	store := openHistory(t)
	r := httpapi.NewRouter()
	history.Mount(r, store)
	srv := httptest.NewUnstartedServer(r)
	closed := make(chan struct{})
	var once sync.Once
	// The server closes the connection, whether the HTTP server still holds it or the
	// stream detached it (sse.Stream.Detach).
	srv.Listener = closeListener{srv.Listener, func() { once.Do(func() { close(closed) }) }}
	srv.Start()
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096) //nolint:errcheck
	if _, err := fmt.Fprintf(conn, "GET /history/events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Append far more than the socket buffers hold, while the client reads nothing.
	data := json.RawMessage(`{"pad":"` + strings.Repeat("x", 2000) + `"}`)
	start := time.Now()
	for b := range 16 {
		batch := make([]event.Envelope, 500)
		for i := range batch {
			batch[i] = event.Envelope{ID: event.NewID(), Stream: "wallet.a", Version: int64(b*500 + i + 1), Type: "t", Data: data, CommandID: "c", Time: time.Now()}
		}
		if _, err := store.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("8,000 events (16 MB) appended in %s with a subscriber not reading", time.Since(start))
	select {
	case <-closed:
	case <-time.After(sse.WriteTimeout + 30*time.Second):
		t.Fatal("the subscriber that stopped reading was not disconnected")
	}
}

// closeListener calls closed when one of the connections it accepted is closed.
type closeListener struct {
	net.Listener
	closed func()
}

func (l closeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &closeConn{c, l.closed}, nil
}

type closeConn struct {
	net.Conn
	closed func()
}

func (c *closeConn) Close() error {
	c.closed()
	return c.Conn.Close()
}

// TestRangeJSONIsTheEnvelope: the lines a stream sends are the envelopes as
// encoding/json writes them.
func TestRangeJSONIsTheEnvelope(t *testing.T) {
	s := openHistory(t)
	es := evs(1, 3)
	es[1].CorrelationID, es[1].CausationID = "", ""
	es[2].Type, es[2].Data = `odd "type" <&>`, json.RawMessage("{\n\"a\": 1}")
	if _, err := s.Append(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Range(context.Background(), 0, 3, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	_, err = s.RangeJSON(context.Background(), 0, 3, "", 10, func(position int64, typ string, line []byte) error {
		e := entries[i].Envelope
		e.Data = json.RawMessage(strings.ReplaceAll(string(e.Data), "\n", ""))
		want, _ := json.Marshal(e)
		if string(line) != string(want) || typ != e.Type || position != entries[i].Position {
			t.Errorf("entry %d:\n got %s\nwant %s", i, line, want)
		}
		i++
		return nil
	})
	if err != nil || i != 3 {
		t.Fatalf("%d entries: %v", i, err)
	}
}

// TestHistoryEventsKeepalive: an idle stream gets its headers and retry: line at once,
// then a comment line within sse.Keepalive.
func TestHistoryEventsKeepalive(t *testing.T) {
	t.Parallel()
	_, srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), sse.Keepalive+10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/history/events?after=end", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	began := time.Now()
	var got []string
	for lines.Scan() {
		got = append(got, lines.Text())
		if lines.Text() == ": keepalive" {
			if len(got) < 2 || !strings.HasPrefix(got[0], "retry: ") {
				t.Fatalf("stream began %q", got)
			}
			t.Logf("keepalive after %s", time.Since(began).Round(time.Millisecond))
			return
		}
	}
	t.Fatalf("no keepalive within %s: %q (%v)", sse.Keepalive+10*time.Second, got, lines.Err())
}
