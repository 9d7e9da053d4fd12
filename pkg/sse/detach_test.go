package sse_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/sse"
)

// detachServer serves streams that detach: each sends events 1 and 2 from the handler,
// then 3.. from the detached goroutine, one each time more is sent on next; the handler
// reports its return on returned, and run its context's end on ended.
func detachServer(t *testing.T, end context.Context, next <-chan struct{}) (srv *httptest.Server, returned, ended chan struct{}) {
	returned, ended = make(chan struct{}, 1), make(chan struct{}, 1)
	srv = httptest.NewServer(sse.EndStreams(end)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { returned <- struct{}{} }()
		st, err := sse.Start(w, r)
		if err != nil {
			return
		}
		defer st.Close()
		st.Event(1, "t", []byte(`{"n":1}`))
		st.Event(2, "t", []byte(`{"n":2}`))
		if st.Flush() != nil {
			return
		}
		st.Detach(func(ctx context.Context) error {
			defer func() { ended <- struct{}{} }()
			for id := int64(3); ; id++ {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-next:
				}
				st.Event(id, "t", fmt.Appendf(nil, `{"n":%d,"pad":%q}`, id, strings.Repeat("x", int(id)*100)))
				if err := st.Flush(); err != nil {
					return err
				}
			}
		})
	})))
	t.Cleanup(srv.Close)
	return srv, returned, ended
}

func within(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s", what)
	}
}

// TestDetachedStream: a detached stream goes on after its handler returned, as valid
// HTTP/1.1 chunks (Go's client reads every event), and its context ends when the client
// hangs up.
func TestDetachedStream(t *testing.T) {
	next := make(chan struct{})
	srv, returned, ended := detachServer(t, context.Background(), next)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("headers %v, transfer encoding %v", resp.Header, resp.TransferEncoding)
	}
	within(t, returned, "return from the handler")
	events := make(chan sse.Event)
	go sse.Read(resp.Body, func(e sse.Event) error { events <- e; return nil }) //nolint:errcheck // ends with the body
	for id := int64(1); id <= 5; id++ {
		if id >= 3 {
			next <- struct{}{}
		}
		select {
		case e := <-events:
			if e.ID != id || !strings.HasPrefix(string(e.Data), fmt.Sprintf(`{"n":%d`, id)) {
				t.Fatalf("event %d: %d %s", id, e.ID, e.Data)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no event %d", id)
		}
	}
	cancel() // the client hangs up
	within(t, ended, "end of the detached stream's context after the client hung up")
}

// TestDetachedStreamEnds: EndStreams's context ends a detached stream: its body ends
// cleanly (the last chunk), so a client sees the end of the stream, not an error.
func TestDetachedStreamEnds(t *testing.T) {
	end, stop := context.WithCancel(context.Background())
	srv, returned, ended := detachServer(t, end, make(chan struct{}))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	within(t, returned, "return from the handler")
	stop()
	within(t, ended, "end of the detached stream's context after EndStreams's")
	body, err := io.ReadAll(bufio.NewReader(resp.Body))
	if err != nil {
		t.Fatalf("the stream's body ends with %v, want its end", err)
	}
	if !strings.Contains(string(body), "id: 2\n") {
		t.Fatalf("body %q", body)
	}
}

// TestDetachedStreamPanics: a panic in a detached stream ends that stream (its body
// ends), not the process.
func TestDetachedStreamPanics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := sse.Start(w, r)
		if err != nil {
			return
		}
		defer st.Close()
		st.Detach(func(context.Context) error {
			st.Event(1, "t", []byte(`{}`))
			st.Flush() //nolint:errcheck
			panic("a bug")
		})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(body), "id: 1\n") {
		t.Fatalf("body %q, %v", body, err)
	}
}

// TestDetachedStreamHTTP10: over HTTP/1.0 (no chunks) a detached stream writes its
// events as they are and ends by closing the connection.
func TestDetachedStreamHTTP10(t *testing.T) {
	end, stop := context.WithCancel(context.Background())
	next := make(chan struct{})
	srv, returned, _ := detachServer(t, end, next)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	within(t, returned, "return from the handler")
	next <- struct{}{}
	stop()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck // only to catch a hang
	raw, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading the stream: %v (%q)", err, raw)
	}
	head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
	if strings.Contains(strings.ToLower(head), "chunked") || !strings.HasPrefix(body, "retry: 1000\n\n") ||
		!strings.Contains(body, "id: 2\n") || !strings.HasSuffix(body, "\n\n") || !strings.Contains(body, "id: 3\n") {
		t.Fatalf("response %q", raw)
	}
}
