package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// upstream is a real HTTP server that answers with its name and the path it got.
func upstream(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(http.StatusOK)
			return
		case "/wallet/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s %s %s %d %s", name, r.Method, r.URL.RequestURI(), len(body), r.Host)
	}))
	t.Cleanup(s.Close)
	return s
}

// closedURL is the address of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func startGateway(t *testing.T, routes string) *httptest.Server {
	t.Helper()
	rs, err := ParseRoutes(routes)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Routes: rs})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(g)
	t.Cleanup(s.Close)
	return s
}

type errorBody struct {
	Error struct{ Type, Message string } `json:"error"`
}

// send does a raw HTTP/1.1 request (the path exactly as written) and returns the status,
// the headers and the body.
func send(t *testing.T, base, method, path string, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck // a hang fails the test
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: entry.test\r\nConnection: close\r\n", method, path)
	for k, v := range header {
		req += k + ": " + v + "\r\n"
	}
	if header["Transfer-Encoding"] == "" && header["Content-Length"] == "" && body != "" {
		req += fmt.Sprintf("Content-Length: %d\r\n", len(body))
	}
	if _, err := io.WriteString(conn, req+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestRoutesAndErrors(t *testing.T) {
	wallet, history := upstream(t, "wallet"), upstream(t, "history")
	g := startGateway(t, "/wallet/="+wallet.URL+" /history="+history.URL+" /tracker/="+closedURL(t))
	big := strings.Repeat("x", 1<<20+1)
	tests := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		want               string // the upstream's answer, or the error type
	}{
		{"domain route keeps path and query", "GET", "/wallet/abc/balance?x=1", nil, "", 200, "wallet GET /wallet/abc/balance?x=1 0 entry.test"},
		{"body passes", "POST", "/wallet/abc/credit", nil, `{"amount":5}`, 200, "wallet POST /wallet/abc/credit 12 entry.test"},
		{"body at the limit passes", "POST", "/wallet/abc/credit", nil, big[1:], 200, fmt.Sprintf("wallet POST /wallet/abc/credit %d entry.test", 1<<20)},
		{"exact prefix", "GET", "/history?after=3", nil, "", 200, "history GET /history?after=3 0 entry.test"},
		{"below a prefix", "GET", "/history/events", nil, "", 200, "history GET /history/events 0 entry.test"},
		{"unknown domain", "GET", "/nope/abc", nil, "", 404, "no_route"},
		{"prefix is not a word prefix", "GET", "/historyx", nil, "", 404, "no_route"},
		{"domain root without slash", "GET", "/wallet", nil, "", 404, "no_route"},
		{"body over the limit (Content-Length)", "POST", "/wallet/abc/credit", nil, big, 413, "body_too_large"},
		{"declared length over the limit: answered unread", "POST", "/wallet/abc/credit", map[string]string{"Content-Length": "10485760"}, "", 413, "body_too_large"},
		{"body over the limit (chunked)", "POST", "/wallet/abc/credit", map[string]string{"Transfer-Encoding": "chunked"},
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big), 413, "body_too_large"},
		{"%00", "GET", "/wallet/abc%00/balance", nil, "", 400, "invalid_path"},
		{"encoded ../", "GET", "/wallet/%2e%2e%2fhistory", nil, "", 400, "invalid_path"},
		{"encoded ..", "GET", "/wallet/%2E%2E/history", nil, "", 400, "invalid_path"},
		{"plain ..", "GET", "/wallet/../history", nil, "", 400, "invalid_path"},
		{"dot segment", "GET", "/wallet/./abc", nil, "", 400, "invalid_path"},
		{"encoded slash", "GET", "/wallet/a%2Fb/balance", nil, "", 400, "invalid_path"},
		{"no upstream reachable", "GET", "/tracker/", nil, "", 503, "upstream_unavailable"},
		{"no upstream reachable (POST)", "POST", "/tracker/x", nil, "{}", 503, "upstream_unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := send(t, g.URL, tc.method, tc.path, tc.header, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d (body %q)", status, tc.status, body)
			}
			if status == 200 {
				if body != tc.want {
					t.Fatalf("body %q, want %q", body, tc.want)
				}
				return
			}
			var e errorBody
			if err := json.Unmarshal([]byte(body), &e); err != nil || h.Get("Content-Type") != "application/json" {
				t.Fatalf("not a C3 JSON error: %s %q (%v)", h.Get("Content-Type"), body, err)
			}
			if e.Error.Type != tc.want || e.Error.Message == "" {
				t.Fatalf("error %+v, want type %s", e.Error, tc.want)
			}
			if status == 503 && h.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
}

func TestHealth(t *testing.T) {
	wallet := upstream(t, "wallet")
	dead := closedURL(t)
	good := startGateway(t, "/wallet/="+wallet.URL)
	bad := startGateway(t, "/wallet/="+wallet.URL+" /tracker/="+dead)
	for _, tc := range []struct {
		name   string
		g      *httptest.Server
		path   string
		status int
	}{
		{"alive", bad, "/healthz", 200},
		{"ready", good, "/readyz", 200},
		{"an upstream down", bad, "/readyz", 503},
	} {
		status, _, body := send(t, tc.g.URL, "GET", tc.path, nil, "")
		if status != tc.status {
			t.Fatalf("%s: %s answered %d %s, want %d", tc.name, tc.path, status, body, tc.status)
		}
		if tc.status == 503 && !strings.Contains(body, dead) {
			t.Fatalf("%s: %s does not name the upstream down: %s", tc.name, tc.path, body)
		}
	}
}

func TestRoundRobinAndFailover(t *testing.T) {
	a, b := upstream(t, "a"), upstream(t, "b")
	g := startGateway(t, "/wallet/="+a.URL+","+b.URL+","+closedURL(t))
	seen := map[string]int{}
	for range 30 {
		for _, method := range []string{"GET", "POST"} {
			// The closed upstream never answers: GET and POST move on (nothing was sent).
			status, _, body := send(t, g.URL, method, "/wallet/x", nil, "{}")
			if status != 200 {
				t.Fatalf("%s answered %d %s", method, status, body)
			}
			seen[strings.Fields(body)[0]]++
		}
	}
	if seen["a"] < 15 || seen["b"] < 15 || seen["a"]+seen["b"] != 60 {
		t.Fatalf("answers per upstream %v: want both used evenly", seen)
	}
	// A 503 moves a GET on to the next upstream; the last 503 is the answer.
	status, _, _ := send(t, g.URL, "GET", "/wallet/busy", nil, "")
	if status != 503 {
		t.Fatalf("GET on every upstream answering 503: got %d", status)
	}
}

func TestStreamsUnbuffered(t *testing.T) {
	release := make(chan struct{})
	sse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "id: 1\nevent: credited\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		select { // holds the stream open until the test has read the event
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer sse.Close()
	defer close(release)
	g := startGateway(t, "/wallet/="+sse.URL)
	resp, err := http.Get(g.URL + "/wallet/abc/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	got := make(chan string, 1)
	go func() {
		r := bufio.NewReader(resp.Body)
		var lines []string
		for len(lines) < 3 {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			lines = append(lines, strings.TrimSpace(line))
		}
		got <- strings.Join(lines, "|")
	}()
	// The upstream still holds the stream open: the event can only come through a flush.
	select {
	case s := <-got:
		if s != "id: 1|event: credited|data: {}" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the event did not come through while the stream stayed open")
	}
}

func TestBadConfig(t *testing.T) {
	for _, routes := range []string{
		"",
		"/wallet/",
		"/wallet/=",
		"wallet/=http://127.0.0.1:1",
		"/wallet/=ftp://127.0.0.1:1",
		"/wallet/=http://127.0.0.1:1/base",
		"/wallet/=http://127.0.0.1:1 /wallet/=http://127.0.0.1:2",
		"/healthz=http://127.0.0.1:1",
	} {
		rs, err := ParseRoutes(routes)
		if err == nil {
			_, err = New(Config{Routes: rs})
		}
		if err == nil {
			t.Errorf("ROUTES=%q accepted", routes)
		}
	}
}

func TestBrokenOffUpstream(t *testing.T) {
	var posts atomic.Int32
	breaker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			posts.Add(1)
		}
		io.ReadAll(r.Body) //nolint:errcheck // the request arrived whole
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // no answer at all
		}
	}))
	defer breaker.Close()
	good := upstream(t, "good")
	g := startGateway(t, "/wallet/="+breaker.URL+","+good.URL)
	// A GET moves on to the next upstream: both answer 200, whichever upstream comes first.
	for range 2 {
		if status, _, body := send(t, g.URL, "GET", "/wallet/x", nil, ""); status != 200 {
			t.Fatalf("GET answered %d %s", status, body)
		}
	}
	// A POST the breaker received is not sent again: its outcome is unknown (504).
	statuses := map[int]int{}
	for range 2 {
		status, _, body := send(t, g.URL, "POST", "/wallet/x/credit", nil, `{"amount":5}`)
		if status == 504 && !strings.Contains(body, "upstream_failed") {
			t.Fatalf("504 without upstream_failed: %s", body)
		}
		statuses[status]++
	}
	if statuses[200] != 1 || statuses[504] != 1 || posts.Load() != 1 {
		t.Fatalf("statuses %v, POSTs at the breaker %d: want one 200, one 504, one POST", statuses, posts.Load())
	}
}
