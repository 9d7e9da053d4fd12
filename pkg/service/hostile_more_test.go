package service_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// hostileCase is one request of a careless or hostile client.
type hostileCase struct {
	name    string
	method  string
	url     string
	body    io.Reader // nil: none
	length  int64     // Content-Length; -1 hides it (chunked)
	header  []string
	status  int
	errType string
}

// TestHostileInputMore extends TestHostileInput with what it lacks: negative zero and
// infinities spelled every way, tiny numbers, bodies of 10 MB (announced and chunked),
// bytes that are not UTF-8, path tricks and more wrong methods and headers. Each gets its
// 4xx with a JSON error, and nothing is written.
func TestHostileInputMore(t *testing.T) {
	s := stacktest.Start(t)
	db := walletDB(t, s)
	id := newWallet()
	credit(t, s, id, 10_00)
	w := func(sub ...string) string { return walletURL(s, id, sub...) }
	body := func(b string) io.Reader { return strings.NewReader(b) }
	amount := func(name, b string) hostileCase {
		return hostileCase{name: name, method: "POST", url: w("credit"), body: body(b), length: int64(len(b)), status: 400, errType: "invalid_amount"}
	}
	badJSON := func(name, b string) hostileCase {
		return hostileCase{name: name, method: "POST", url: w("debit"), body: body(b), length: int64(len(b)), status: 400, errType: "invalid_json"}
	}
	tenMB := bytes.Repeat([]byte(" "), 10<<20)
	copy(tenMB, `{"amount": 1`)
	tenMB[len(tenMB)-1] = '}'
	cases := []hostileCase{
		amount("string minus zero", `{"amount": "-0"}`),
		amount("string minus zero with places", `{"amount": "-0.00"}`),
		amount("minus zero with places", `{"amount": -0.00}`),
		amount("minus zero float", `{"amount": -0.0}`),
		badJSON("minus Infinity literal", `{"amount": -Infinity}`),
		amount("string minus Infinity", `{"amount": "-Infinity"}`),
		amount("string inf", `{"amount": "inf"}`),
		amount("string nan lower case", `{"amount": "nan"}`),
		amount("tiny exponent", `{"amount": 1e-400}`),
		amount("ten places", `{"amount": 0.0000000001}`),
		amount("string three places", `{"amount": "0.001"}`),
		amount("negative exponent", `{"amount": 5e-1}`),
		amount("fullwidth digit", `{"amount": "５"}`),
		amount("arabic-indic digit", `{"amount": "٥"}`),
		amount("string not UTF-8", "{\"amount\": \"\xff\xfe\"}"),
		amount("900 KB of digits", `{"amount": "`+strings.Repeat("9", 900_000)+`"}`),
		amount("max int64 cents", `{"amount": 92233720368547758.07}`),
		amount("string with a comma", `{"amount": "1,00"}`),
		amount("string with a currency sign", `{"amount": "$5"}`),
		badJSON("NUL after the object", "{\"amount\": 1}\x00"),
		badJSON("comment", `{"amount": 1 /* one */}`),
		badJSON("unquoted key", `{amount: 1}`),
		badJSON("UTF-16 body", "\xff\xfe{\x00\"\x00a\x00"),
		{name: "10 MB body", method: "POST", url: w("credit"), body: bytes.NewReader(tenMB), length: int64(len(tenMB)), status: 413, errType: "body_too_large"},
		{name: "10 MB body chunked", method: "POST", url: w("credit"), body: struct{ io.Reader }{bytes.NewReader(tenMB)}, length: -1, status: 413, errType: "body_too_large"},
		{name: "escaped dots id", method: "POST", url: s.URL + "/wallet/%2e%2e/credit", body: body(`{"amount": 1}`), length: 13, status: 400, errType: "invalid_id"},
		{name: "double-escaped traversal id", method: "POST", url: s.URL + "/wallet/..%252F..%252Fetc/credit", body: body(`{"amount": 1}`), length: 13, status: 400, errType: "invalid_id"},
		{name: "backslash traversal id", method: "GET", url: s.URL + "/wallet/..%5C..%5Cwindows/balance", status: 400, errType: "invalid_id"},
		{name: "escaped slash inside the id", method: "GET", url: s.URL + "/wallet/" + id[:13] + "%2F" + id[14:] + "/balance", status: 400, errType: "invalid_id"},
		{name: "id with a semicolon parameter", method: "GET", url: s.URL + "/wallet/" + id + ";x=1/balance", status: 400, errType: "invalid_id"},
		{name: "id with an escaped question mark", method: "GET", url: s.URL + "/wallet/" + id[:26] + "%3F/balance", status: 400, errType: "invalid_id"},
		{name: "empty id", method: "POST", url: s.URL + "/wallet//credit", body: body(`{"amount": 1}`), length: 13, status: 400, errType: "invalid_id"},
		{name: "dot segments around a valid id", method: "GET", url: s.URL + "/wallet/./" + id + "/../balance", status: 404, errType: "no_route"},
		{name: "POST on the state", method: "POST", url: w(), body: body(`{"amount": 1}`), length: 13, status: 405, errType: "method_not_allowed"},
		{name: "OPTIONS credit", method: "OPTIONS", url: w("credit"), status: 405, errType: "method_not_allowed"},
		{name: "TRACE wallet", method: "TRACE", url: w(), status: 405, errType: "method_not_allowed"},
		{name: "DELETE debit", method: "DELETE", url: w("debit"), status: 405, errType: "method_not_allowed"},
		{name: "PUT transactions", method: "PUT", url: w("transactions"), body: body(`{}`), length: 2, status: 405, errType: "method_not_allowed"},
		{name: "made-up method", method: "BREW", url: w("credit"), body: body(`{"amount": 1}`), length: 13, status: 405, errType: "method_not_allowed"},
		{name: "If-Match not a number", method: "POST", url: w("credit"), body: body(`{"amount": 1}`), length: 13, header: []string{"If-Match", `"abc"`}, status: 400, errType: "invalid_if_match"},
		{name: "If-Match negative", method: "POST", url: w("credit"), body: body(`{"amount": 1}`), length: 13, header: []string{"If-Match", `"-1"`}, status: 400, errType: "invalid_if_match"},
		{name: "If-Match overflow", method: "POST", url: w("credit"), body: body(`{"amount": 1}`), length: 13, header: []string{"If-Match", `"99999999999999999999"`}, status: 400, errType: "invalid_if_match"},
		{name: "If-Match list", method: "POST", url: w("credit"), body: body(`{"amount": 1}`), length: 13, header: []string{"If-Match", `"1", "2"`}, status: 400, errType: "invalid_if_match"},
		{name: "before overflow", method: "GET", url: w("transactions") + "?before=99999999999999999999", status: 400, errType: "invalid_before"},
		{name: "limit with NUL", method: "GET", url: w("transactions") + "?limit=5%00", status: 400, errType: "invalid_limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := count(t, db, `SELECT count(*) FROM event`)
			req, err := http.NewRequest(c.method, c.url, c.body)
			if err != nil {
				t.Fatal(err)
			}
			if c.body != nil {
				req.ContentLength = c.length
			}
			for i := 0; i+1 < len(c.header); i += 2 {
				req.Header.Set(c.header[i], c.header[i+1])
			}
			r, err := do(req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code >= 500 {
				t.Errorf("5xx: %s", truncated(r))
			}
			if r.Code != c.status || r.errType() != c.errType || r.errMessage() == "" {
				t.Errorf("got %s, want %d %s with a message", truncated(r), c.status, c.errType)
			}
			if after := count(t, db, `SELECT count(*) FROM event`); after != before {
				t.Errorf("the event table went from %d to %d rows", before, after)
			}
		})
	}
	t.Logf("FIGURES hostile: %d more requests, each 4xx with a JSON error, nothing written", len(cases))
}

// rawExchange writes raw bytes on a new connection to addr (half-closing it after them
// if closeWrite) and returns the status of the answer (0 if the server closed without
// one) and the answer's body.
func rawExchange(t *testing.T, addr, raw string, closeWrite bool) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		conn.(*net.TCPConn).CloseWrite() //nolint:errcheck
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHostileConnections speaks broken HTTP to the server: requests it cannot parse get a
// 4xx from Go's HTTP server (plain text: no handler runs, so no JSON), except the two
// that HTTP answers 501 and 505; broken bodies get a 4xx JSON error from the handler; 100 slowloris connections that dribble
// headers are cut after the 5s header timeout while other clients are served at once;
// nothing is written.
func TestHostileConnections(t *testing.T) {
	s := stacktest.Start(t)
	db := walletDB(t, s)
	id := newWallet()
	credit(t, s, id, 10_00)
	before := count(t, db, `SELECT count(*) FROM event`)
	addr := strings.TrimPrefix(s.URL, "http://")
	post := "POST /wallet/" + id + "/credit HTTP/1.1\r\nHost: x\r\n"
	cases := []struct {
		name       string
		raw        string
		closeWrite bool
		status     int
		jsonErr    string // the handler's error type, "" where Go's server answers itself
	}{
		{"garbage request line", "HELLO\r\n\r\n", false, 400, ""},
		{"request line without version", "GET /wallet/" + id + "\r\n\r\n", false, 400, ""},
		{"header over 64 KiB", "GET /wallet/" + id + " HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 80<<10) + "\r\n\r\n", false, 431, ""},
		{"Content-Length not a number", post + "Content-Length: abc\r\n\r\n", false, 400, ""},
		{"two different Content-Lengths", post + "Content-Length: 13\r\nContent-Length: 14\r\n\r\n{\"amount\": 1}", false, 400, ""},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, 405, "method_not_allowed"},
		// The two answers HTTP itself prescribes as 5xx (RFC 9112 6.1, RFC 9110 15.6.6),
		// given by Go's server before any handler runs: not the application's to change.
		{"Transfer-Encoding gzip", post + "Transfer-Encoding: gzip\r\n\r\n{\"amount\": 1}", false, 501, ""},
		{"HTTP/3.0 on HTTP/1", "GET /wallet/" + id + " HTTP/3.0\r\nHost: x\r\n\r\n", false, 505, ""},
		{"NUL in a header value", post + "X-A: a\x00b\r\nContent-Length: 13\r\n\r\n{\"amount\": 1}", false, 400, ""},
		{"header without a colon", post + "NoColonHere\r\nContent-Length: 13\r\n\r\n{\"amount\": 1}", false, 400, ""},
		{"no Host header", "POST /wallet/" + id + "/credit HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"amount\": 1}", false, 400, ""},
		{"bad chunk size", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"amount\": 1}\r\n0\r\n\r\n", false, 400, "invalid_body"},
		{"body shorter than its Content-Length", post + "Content-Length: 100\r\n\r\n{\"amount\": 1}", true, 400, "invalid_body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := rawExchange(t, addr, c.raw, c.closeWrite)
			if code != c.status {
				t.Errorf("status %d, want %d: %.200s", code, c.status, body)
			}
			if c.jsonErr != "" {
				r := response{Code: code, Body: []byte(body)}
				jsonInto(body, &r.JSON)
				if r.errType() != c.jsonErr {
					t.Errorf("body %.200s, want a JSON error %s", body, c.jsonErr)
				}
			}
		})
	}

	// Slowloris: 100 connections send a header line every 300ms and never finish.
	const slow = 100
	began := time.Now()
	cut := make([]time.Duration, slow)
	var answers sync.Map // what the server wrote before closing, if anything
	var wg sync.WaitGroup
	for i := range slow {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		wg.Add(2)
		closed := make(chan struct{})
		go func() {
			defer wg.Done()
			defer close(closed)
			conn.SetReadDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck
			b, _ := io.ReadAll(conn)
			cut[i] = time.Since(began)
			if len(b) > 0 {
				answers.Store(i, string(b))
			}
		}()
		go func() {
			defer wg.Done()
			io.WriteString(conn, post) //nolint:errcheck
			for n := 0; ; n++ {
				select {
				case <-closed:
					return
				case <-time.After(300 * time.Millisecond):
				}
				if _, err := fmt.Fprintf(conn, "X-Slow-%d: x\r\n", n); err != nil {
					return
				}
			}
		}()
	}
	var slowest time.Duration
	for range 20 { // meanwhile, other clients are served at once
		t0 := time.Now()
		if r := must(t, "GET", walletURL(s, id, "balance"), ""); r.Code != 200 {
			t.Errorf("GET balance beside slowloris: %s", r)
		}
		slowest = max(slowest, time.Since(t0))
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	var last time.Duration
	for _, d := range cut {
		last = max(last, d)
	}
	if last > 8*time.Second {
		t.Errorf("a slowloris connection was open for %s; the header timeout is 5s", last)
	}
	if slowest > time.Second {
		t.Errorf("a GET beside slowloris took %s", slowest)
	}
	answers.Range(func(k, v any) bool {
		if s := v.(string); !strings.HasPrefix(s, "HTTP/1.1 4") {
			t.Errorf("slowloris connection %v answered %.100q", k, s)
		}
		return true
	})
	if after := count(t, db, `SELECT count(*) FROM event`); after != before {
		t.Errorf("the event table went from %d to %d rows", before, after)
	}
	t.Logf("FIGURES hostile: %d broken-HTTP requests (%d answered 4xx, 2 the 501/505 HTTP prescribes); %d slowloris connections all cut within %s, other clients' slowest GET %s meanwhile",
		len(cases), len(cases)-2, slow, last.Round(time.Millisecond), slowest.Round(time.Millisecond))
}
