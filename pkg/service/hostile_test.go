package service_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestHostileInput sends malformed and hostile requests to every route. Each gets its
// expected status with a JSON error body ({"error": {"type", "message"}}), never a 5xx,
// and writes nothing to the event log, except the few that are valid and must be accepted.
func TestHostileInput(t *testing.T) {
	s := stacktest.Start(t)
	db := walletDB(t, s)
	id := newWallet() // exists: credited below
	credit(t, s, id, 100_00)
	fresh := newWallet() // never written
	w := func(sub ...string) string { return walletURL(s, id, sub...) }
	post := "POST"
	big := `{"amount": 1, "pad": "` + strings.Repeat("x", 2<<20) + `"}`

	type tc struct {
		name    string
		method  string
		url     string
		body    string
		header  []string
		status  int
		errType string // "" for a 2xx
		written int    // event rows the request adds
	}
	amount := func(name, body string) tc {
		return tc{name: name, method: post, url: w("credit"), body: body, status: 400, errType: "invalid_amount"}
	}
	json := func(name, body string) tc {
		return tc{name: name, method: post, url: w("debit"), body: body, status: 400, errType: "invalid_json"}
	}
	badID := func(name, path string) tc {
		return tc{name: name, method: post, url: s.URL + "/wallet/" + path + "/credit", body: `{"amount": 1}`, status: 400, errType: "invalid_id"}
	}
	cases := []tc{
		// Broken JSON.
		json("truncated object", `{"amount": 5`),
		json("open brace", `{`),
		json("not json", `amount=5`),
		json("array body", `[{"amount": 5}]`),
		json("null body", `null`),
		json("string body", `"5"`),
		json("number body", `5`),
		json("two objects", `{"amount": 5}{"amount": 5}`),
		json("trailing garbage", `{"amount": 5} x`),
		json("NaN literal", `{"amount": NaN}`),
		json("Infinity literal", `{"amount": Infinity}`),
		json("single quotes", `{'amount': 5}`),
		json("byte order mark", "\xef\xbb\xbf{\"amount\": 5}"),
		json("deep nesting", strings.Repeat("[", 100_000)),
		{name: "empty body", method: post, url: w("credit"), body: "", status: 400, errType: "invalid_body"},
		{name: "blank body", method: post, url: w("credit"), body: " \n\t ", status: 400, errType: "invalid_body"},
		// Wrong types and values.
		amount("missing amount", `{}`),
		amount("amount in capitals", `{"AMOUNT": 5}`),
		amount("string abc", `{"amount": "abc"}`),
		amount("true", `{"amount": true}`),
		amount("null", `{"amount": null}`),
		amount("array", `{"amount": [5]}`),
		amount("object", `{"amount": {"value": 5}}`),
		amount("string NaN", `{"amount": "NaN"}`),
		amount("string Infinity", `{"amount": "Infinity"}`),
		amount("minus zero", `{"amount": -0}`),
		amount("zero", `{"amount": 0}`),
		amount("zero with places", `{"amount": 0.00}`),
		amount("string zero", `{"amount": "0"}`),
		amount("negative", `{"amount": -5}`),
		amount("negative string", `{"amount": "-5.00"}`),
		amount("plus sign", `{"amount": "+5"}`),
		amount("exponent", `{"amount": 1e2}`),
		amount("exponent string", `{"amount": "1E2"}`),
		amount("three places", `{"amount": 0.001}`),
		amount("three places above a cent", `{"amount": 5.123}`),
		amount("trailing zero third place", `{"amount": 5.100}`),
		amount("1e400", `{"amount": 1e400}`),
		amount("40 digits", `{"amount": 1234567890123456789012345678901234567890}`),
		amount("20 digits string", `{"amount": "99999999999999999999"}`),
		amount("one cent above the maximum", `{"amount": 1000000000.01}`),
		amount("twice the maximum", `{"amount": 2000000000}`),
		amount("leading zero", `{"amount": "05"}`),
		json("leading dot", `{"amount": .5}`),
		amount("leading dot string", `{"amount": ".5"}`),
		amount("trailing dot", `{"amount": "5."}`),
		amount("two dots", `{"amount": "5.5.5"}`),
		amount("spaces in string", `{"amount": " 5"}`),
		amount("hex", `{"amount": "0x10"}`),
		amount("duplicate key, last negative", `{"amount": 5, "amount": -1}`),
		{name: "unknown field", method: post, url: w("credit"), body: `{"amount": 5, "note": "hi"}`, status: 400, errType: "unknown_field"},
		{name: "only unknown field", method: post, url: w("credit"), body: `{"amount": 5, "currency": "EUR"}`, status: 400, errType: "unknown_field"},
		{name: "2 MiB body", method: post, url: w("credit"), body: big, status: 413, errType: "body_too_large"},
		// Ids that are not KSUIDs.
		badID("too short", "abc"),
		badID("26 characters", id[:26]),
		badID("28 characters", id+"A"),
		badID("64 characters", strings.Repeat("A", 64)),
		badID("overflows 160 bits", strings.Repeat("z", 27)),
		badID("just above the maximum KSUID", "aWgEPTl1tmebfsQzFP4bxwgy80W"),
		badID("dash", id[:20]+"-"+id[21:]),
		badID("underscore", id[:20]+"_"+id[21:]),
		badID("dot", id[:20]+"."+id[21:]),
		badID("escaped path traversal", "..%2F..%2Fetc"),
		badID("escaped traversal padded to 27", "..%2F..%2F..%2Fetc%2Fpasswd0000"),
		badID("unicode", "%C3%A9t%C3%A9"),
		badID("27 bytes of unicode", strings.Repeat("%C3%A9", 13)+"A"),
		badID("escaped space", id[:26]+"%20"),
		badID("escaped NUL", id[:26]+"%00"),
		{name: "bad id on GET state", method: "GET", url: s.URL + "/wallet/abc", status: 400, errType: "invalid_id"},
		{name: "bad id on GET balance", method: "GET", url: s.URL + "/wallet/" + strings.Repeat("z", 27) + "/balance", status: 400, errType: "invalid_id"},
		{name: "bad id on GET transactions", method: "GET", url: s.URL + "/wallet/..%2F..%2Fetc/transactions", status: 400, errType: "invalid_id"},
		{name: "bad id on GET events", method: "GET", url: s.URL + "/wallet/" + id[:20] + "-" + id[21:] + "/events", status: 400, errType: "invalid_id"},
		{name: "bad id and bad body", method: post, url: s.URL + "/wallet/abc/credit", body: `{`, status: 400, errType: "invalid_id"},
		// Routes and methods.
		{name: "PUT credit", method: "PUT", url: w("credit"), body: `{"amount": 1}`, status: 405, errType: "method_not_allowed"},
		{name: "DELETE wallet", method: "DELETE", url: w(), status: 405, errType: "method_not_allowed"},
		{name: "PATCH balance", method: "PATCH", url: w("balance"), body: `{"amount": 1}`, status: 405, errType: "method_not_allowed"},
		{name: "GET credit", method: "GET", url: w("credit"), status: 405, errType: "method_not_allowed"},
		{name: "POST balance", method: post, url: w("balance"), body: `{"amount": 1}`, status: 405, errType: "method_not_allowed"},
		{name: "unknown command", method: post, url: w("transfer"), body: `{"amount": 1}`, status: 404, errType: "no_route"},
		{name: "unknown view", method: "GET", url: w("secrets"), status: 404, errType: "no_route"},
		{name: "trailing slash", method: post, url: w("credit") + "/", body: `{"amount": 1}`, status: 404, errType: "no_route"},
		{name: "extra segment", method: "GET", url: w("balance", "x"), status: 404, errType: "no_route"},
		{name: "root", method: "GET", url: s.URL + "/", status: 404, errType: "no_route"},
		{name: "domain without id", method: "GET", url: s.URL + "/wallet", status: 404, errType: "no_route"},
		{name: "unknown domain", method: post, url: s.URL + "/account/" + id + "/credit", body: `{"amount": 1}`, status: 404, errType: "no_route"},
		{name: "raw path traversal", method: "GET", url: s.URL + "/wallet/../../etc/passwd", status: 404, errType: "no_route"},
		// Query parameters.
		{name: "limit 0", method: "GET", url: w("transactions") + "?limit=0", status: 400, errType: "invalid_limit"},
		{name: "limit 1001", method: "GET", url: w("transactions") + "?limit=1001", status: 400, errType: "invalid_limit"},
		{name: "limit negative", method: "GET", url: w("transactions") + "?limit=-1", status: 400, errType: "invalid_limit"},
		{name: "limit abc", method: "GET", url: w("transactions") + "?limit=abc", status: 400, errType: "invalid_limit"},
		{name: "limit float", method: "GET", url: w("transactions") + "?limit=1.5", status: 400, errType: "invalid_limit"},
		{name: "limit overflow", method: "GET", url: w("transactions") + "?limit=99999999999999999999", status: 400, errType: "invalid_limit"},
		{name: "before negative", method: "GET", url: w("transactions") + "?before=-1", status: 400, errType: "invalid_before"},
		{name: "before abc", method: "GET", url: w("transactions") + "?before=abc", status: 400, errType: "invalid_before"},
		{name: "before exponent", method: "GET", url: w("transactions") + "?before=1e3", status: 400, errType: "invalid_before"},
		{name: "history after negative", method: "GET", url: s.HistoryURL + "/history?after=-1", status: 400, errType: "invalid_after"},
		{name: "history limit 0", method: "GET", url: s.HistoryURL + "/history?limit=0", status: 400, errType: "invalid_limit"},
		{name: "history limit abc", method: "GET", url: s.HistoryURL + "/history?limit=abc", status: 400, errType: "invalid_limit"},
		// Headers.
		{name: "idempotency key of 256 characters", method: post, url: w("credit"), body: `{"amount": 1}`, header: []string{"Idempotency-Key", strings.Repeat("k", 256)}, status: 400, errType: "invalid_idempotency_key"},
		{name: "idempotency key of 10,000 characters", method: post, url: w("credit"), body: `{"amount": 1}`, header: []string{"Idempotency-Key", strings.Repeat("k", 10_000)}, status: 400, errType: "invalid_idempotency_key"},
		{name: "idempotency key with a space", method: post, url: w("credit"), body: `{"amount": 1}`, header: []string{"Idempotency-Key", "a b"}, status: 400, errType: "invalid_idempotency_key"},
		{name: "idempotency key with a tab", method: post, url: w("credit"), body: `{"amount": 1}`, header: []string{"Idempotency-Key", "a\tb"}, status: 400, errType: "invalid_idempotency_key"},
		{name: "idempotency key not ASCII", method: post, url: w("credit"), body: `{"amount": 1}`, header: []string{"Idempotency-Key", "cl\xc3\xa9"}, status: 400, errType: "invalid_idempotency_key"},
		// Never-written wallets: reads are 404, a debit is insufficient_funds (a rejected row).
		{name: "GET a wallet never written", method: "GET", url: walletURL(s, fresh), status: 404, errType: "not_found"},
		{name: "GET balance never written", method: "GET", url: walletURL(s, fresh, "balance"), status: 404, errType: "not_found"},
		{name: "GET transactions never written", method: "GET", url: walletURL(s, fresh, "transactions"), status: 404, errType: "not_found"},
		{name: "debit a wallet never written", method: post, url: walletURL(s, fresh, "debit"), body: `{"amount": 1}`, status: 422, errType: "insufficient_funds", written: 1},
		// Valid requests that look odd: accepted.
		{name: "form content type with a JSON body (curl -d)", method: post, url: w("credit"), body: `{"amount": 5}`, header: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 200, written: 1},
		{name: "text/plain content type", method: post, url: w("credit"), body: `{"amount": "0.01"}`, header: []string{"Content-Type", "text/plain"}, status: 200, written: 1},
		{name: "no content type", method: post, url: w("debit"), body: `{"amount": 1.5}`, header: []string{"Content-Type", ""}, status: 200, written: 1},
		{name: "the maximum amount", method: post, url: w("credit"), body: `{"amount": 1000000000.00}`, status: 200, written: 1},
		{name: "idempotency key of 255 characters", method: post, url: w("credit"), body: `{"amount": 1}`, header: []string{"Idempotency-Key", strings.Repeat("k", 255)}, status: 200, written: 1},
		{name: "over-long correlation id is ignored", method: post, url: w("credit"), body: `{"amount": 1}`, header: []string{"X-Correlation-Id", strings.Repeat("c", 1000)}, status: 200, written: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := count(t, db, `SELECT count(*) FROM event`)
			req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(c.header); i += 2 {
				if c.header[i+1] == "" {
					req.Header.Del(c.header[i])
				} else {
					req.Header.Set(c.header[i], c.header[i+1])
				}
			}
			r, err := do(req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code >= 500 {
				t.Errorf("5xx: %s", r)
			}
			if r.Code != c.status {
				t.Errorf("status %d, want %d: %s", r.Code, c.status, truncated(r))
			}
			if r.JSON == nil {
				t.Errorf("body is not a JSON object: %s", truncated(r))
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if c.errType != "" && (r.errType() != c.errType || r.errMessage() == "") {
				t.Errorf("error %q (message %q), want type %q with a message", r.errType(), r.errMessage(), c.errType)
			}
			if c.errType == "" && r.JSON["error"] != nil {
				t.Errorf("an error body on a %d: %s", r.Code, r)
			}
			if after := count(t, db, `SELECT count(*) FROM event`); after != before+c.written {
				t.Errorf("the event table went from %d to %d rows, want %d more", before, after, c.written)
			}
		})
	}

	// Nothing else happened to the wallet: its events are the accepted cases and the
	// first credit, and the replay agrees.
	accepted := 1
	for _, c := range cases {
		if c.status == 200 {
			accepted++
		}
	}
	t.Logf("FIGURES hostile: %d requests (%d of them valid and accepted), none answered 5xx", len(cases), accepted-1)
	if r := must(t, "GET", w(), ""); r.version() != int64(accepted) {
		t.Errorf("wallet after the hostile requests: %s, want version %d", r, accepted)
	}
	if n := count(t, db, `SELECT count(*) FROM event WHERE stream NOT IN (?, ?)`, "wallet."+id, "wallet."+fresh); n != 0 {
		t.Errorf("%d event rows of other streams", n)
	}
	verify(t, s)
}

// TestOversizedBodies: over 1 MiB is 413 whether the length is announced or chunked;
// exactly 1 MiB of valid JSON is read.
func TestOversizedBodies(t *testing.T) {
	s := stacktest.Start(t)
	db := walletDB(t, s)
	id := newWallet()
	pad := func(n int) string { // a valid body of exactly n bytes
		head, tail := `{"amount": 1`, `}`
		return head + strings.Repeat(" ", n-len(head)-len(tail)) + tail
	}
	for _, c := range []struct {
		name    string
		body    string
		chunked bool
		status  int
	}{
		{"1 MiB exactly", pad(1 << 20), false, 200},
		{"1 MiB + 1", pad(1<<20 + 1), false, 413},
		{"1 MiB + 1 chunked", pad(1<<20 + 1), true, 413},
		{"8 MiB chunked", pad(8 << 20), true, 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := count(t, db, `SELECT count(*) FROM event`)
			var body = strings.NewReader(c.body)
			req, _ := http.NewRequest("POST", walletURL(s, id, "credit"), body)
			if c.chunked {
				// Hide the length: the body goes out chunked.
				req, _ = http.NewRequest("POST", walletURL(s, id, "credit"), struct{ *bytes.Reader }{bytes.NewReader([]byte(c.body))})
			}
			r, err := do(req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != c.status {
				t.Fatalf("status %d, want %d: %s", r.Code, c.status, truncated(r))
			}
			want := 0
			if c.status == 200 {
				want = 1
			} else if r.errType() != "body_too_large" {
				t.Errorf("error %s", r)
			}
			if after := count(t, db, `SELECT count(*) FROM event`); after != before+want {
				t.Errorf("rows %d -> %d, want %d more", before, after, want)
			}
		})
	}
}

func truncated(r response) string {
	s := r.String()
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}
