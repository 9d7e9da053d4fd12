package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
)

// FuzzParseCommand feeds arbitrary ids, bodies and headers through everything the server
// checks before a command leaves it. Nothing may panic; a refusal is a client's mistake
// (invalid or too large, never internal: that would be a 500); what passes is a request
// the writer accepts: a KSUID entity and a printable key of at most 255 characters.
func FuzzParseCommand(f *testing.F) {
	id := ksuid.New().String()
	for _, s := range [][4]string{
		{id, `{"amount": 5}`, "", ""},
		{id, `{"amount": "0.01"}`, "key-1", `"3"`},
		{"..%2F..%2Fetc", `{"amount": -0}`, "a b", `W/"x"`},
		{id, `{"amount": NaN}`, strings.Repeat("k", 300), "-1"},
		{id, `{"amount": 1e400, "amount": 1}`, "", `"0"`},
		{"", "", "", ""},
	} {
		f.Add(s[0], []byte(s[1]), s[2], s[3], "credit")
	}
	d := wallet.Domain{}
	a := &Entities{Domain: "wallet", Commands: d.Commands(), Parse: d.ParseCommand}
	f.Fuzz(func(t *testing.T, id string, body []byte, key, ifMatch, command string) {
		r := httptest.NewRequest("POST", "/wallet/x/credit", strings.NewReader(string(body)))
		rc := chi.NewRouteContext()
		rc.URLParams.Add("id", id)
		r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rc))
		if key != "" {
			r.Header["Idempotency-Key"] = []string{key}
		}
		if ifMatch != "" {
			r.Header["If-Match"] = []string{ifMatch}
		}
		req, err := a.parseCommand(httptest.NewRecorder(), r, command)
		if err != nil {
			if k := failure.KindOf(err); k != failure.Invalid && k != failure.TooLarge {
				t.Fatalf("refused as %s (HTTP %d): %v", k, Status(k), err)
			}
			return
		}
		if _, err := ksuid.Parse(req.Entity); err != nil || !base62(req.Entity) {
			t.Fatalf("entity %q passed", req.Entity)
		}
		if len(req.IdempotencyKey) > 255 || strings.ContainsAny(req.IdempotencyKey, " \t\r\n") {
			t.Fatalf("idempotency key %q passed", req.IdempotencyKey)
		}
		if req.ExpectedVersion != nil && *req.ExpectedVersion < 0 {
			t.Fatalf("If-Match %q gave version %d", ifMatch, *req.ExpectedVersion)
		}
		if !json.Valid(req.Data) {
			t.Fatalf("command data %q is not JSON", req.Data)
		}
	})
}

// FuzzQueryInt: any raw query gives the default, a value within the bounds, or an
// invalid failure; never a panic.
func FuzzQueryInt(f *testing.F) {
	for _, s := range []string{"limit=5", "limit=-1", "limit=99999999999999999999", "limit=%2B7", "limit=1e3", "limit=&limit=2", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/x", nil)
		r.URL.RawQuery = raw
		v, err := QueryInt(r, "limit", 100, 1, 1000)
		if err != nil {
			if failure.KindOf(err) != failure.Invalid {
				t.Fatalf("refused as %s", failure.KindOf(err))
			}
			return
		}
		if v < 1 || v > 1000 {
			t.Fatalf("limit %d from %q", v, raw)
		}
	})
}

// FuzzWriterReply: whatever a NATS reply holds, the server answers with a valid status
// and a JSON error body, never a panic.
func FuzzWriterReply(f *testing.F) {
	for _, s := range []string{
		`{"version":3,"state":{"id":"x","version":3}}`,
		`{"error":{"kind":"rejected","type":"insufficient_funds","message":"no"}}`,
		`{"error":{"kind":"no such kind","type":"","message":""}}`,
		`{"error":null}`, `{"error":{}}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var rep command.Reply
		if err := json.Unmarshal(b, &rep); err != nil || rep.Error == nil {
			return
		}
		w := httptest.NewRecorder()
		WriteError(w, rep.Error)
		if w.Code < 400 || w.Code > 599 {
			t.Fatalf("status %d for %s", w.Code, b)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("error body is not JSON: %q", w.Body.String())
		}
	})
}
