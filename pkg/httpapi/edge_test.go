package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/failure"
)

// logBuffer is a JSON log, safe for the server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records returns the log's records, decoded.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// edgeServer serves routes behind Edge, logging into the returned buffer.
func edgeServer(t *testing.T) (*httptest.Server, *logBuffer) {
	logs := &logBuffer{}
	r := chi.NewRouter()
	r.Use(Edge(slog.New(slog.NewJSONHandler(logs, nil))))
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("the handler's bug: secret /etc/key") })
	r.Get("/internal", func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, errors.New("open /var/secret/db: permission denied"))
	})
	r.Get("/internal-failure", func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, failure.New(failure.Internal, "corrupt_state", "state log of wallet.x: bad JSON"))
	})
	r.Get("/rejected", func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, failure.New(failure.Rejected, "insufficient_funds", "balance 0.00 is less than 5.00"))
	})
	r.Get("/stream", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			WriteError(w, errors.New("no flusher behind Edge"))
			return
		}
		w.Write([]byte(CorrelationID(r))) //nolint:errcheck
		w.(http.Flusher).Flush()
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, logs
}

func get(t *testing.T, url, correlation string) (*http.Response, map[string]map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if correlation != "" {
		req.Header.Set(CorrelationHeader, correlation)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]map[string]string
	json.NewDecoder(res.Body).Decode(&body) //nolint:errcheck // nil for a body that is not an error
	return res, body
}

// TestEdgeConcealsAndLogsInternalErrors: a panic or an internal error is answered 500
// with a generic C3 "internal" error naming the correlation id, and logged once with it;
// the client never sees the error's text.
func TestEdgeConcealsAndLogsInternalErrors(t *testing.T) {
	tests := []struct {
		path, correlation, logged string
	}{
		{"/panic", "corr-123", "the handler's bug: secret /etc/key"},
		{"/internal", "", "open /var/secret/db: permission denied"},
		{"/internal-failure", "a b", "corrupt_state: state log of wallet.x: bad JSON"}, // a space: not a usable id
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			srv, logs := edgeServer(t)
			res, body := get(t, srv.URL+tc.path, tc.correlation)
			id := res.Header.Get(CorrelationHeader)
			if tc.correlation == "corr-123" && id != "corr-123" {
				t.Fatalf("correlation id %q, want the client's", id)
			}
			if tc.correlation != "corr-123" {
				if _, err := ksuid.Parse(id); err != nil {
					t.Fatalf("correlation id %q is not a new KSUID", id)
				}
			}
			e := body["error"]
			if res.StatusCode != 500 || len(body) != 1 || len(e) != 2 || e["type"] != "internal" || e["message"] != "internal error; correlation id "+id {
				t.Fatalf("got %d %v, want 500 internal naming %s", res.StatusCode, body, id)
			}
			recs := logs.records(t)
			if len(recs) != 1 {
				t.Fatalf("%d log records, want 1: %v", len(recs), recs)
			}
			rec := recs[0]
			text, _ := rec["err"].(string)
			if p, ok := rec["panic"].(string); ok {
				text = p
				if stack, _ := rec["stack"].(string); !strings.Contains(stack, "edge_test.go") {
					t.Errorf("the panic's log has no stack: %q", stack)
				}
			}
			if rec["level"] != "ERROR" || rec["correlation_id"] != id || text != tc.logged || rec["path"] != tc.path {
				t.Fatalf("log record %v, want ERROR with correlation_id %s and %q", rec, id, tc.logged)
			}
		})
	}
}

func TestEdgePassesOtherErrorsAndStreams(t *testing.T) {
	srv, logs := edgeServer(t)
	res, body := get(t, srv.URL+"/rejected", "")
	if res.StatusCode != 422 || body["error"]["message"] != "balance 0.00 is less than 5.00" {
		t.Fatalf("rejected: %d %v", res.StatusCode, body)
	}
	res, _ = get(t, srv.URL+"/stream", "c-1")
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d: a streaming handler cannot flush behind Edge", res.StatusCode)
	}
	if recs := logs.records(t); len(recs) != 0 {
		t.Fatalf("logged %v; only internal errors and panics are", recs)
	}
}
