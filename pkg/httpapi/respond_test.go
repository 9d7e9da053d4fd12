package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"uneventful.dev/uneventful/pkg/failure"
)

func TestStatusOfEveryKind(t *testing.T) {
	tests := []struct {
		kind failure.Kind
		want int
	}{
		{failure.Invalid, http.StatusBadRequest},
		{failure.NotFound, http.StatusNotFound},
		{failure.Conflict, http.StatusConflict},
		{failure.Rejected, http.StatusUnprocessableEntity},
		{failure.PreconditionFailed, http.StatusPreconditionFailed},
		{failure.TooLarge, http.StatusRequestEntityTooLarge},
		{failure.Overloaded, http.StatusServiceUnavailable},
		{failure.Unavailable, http.StatusServiceUnavailable},
		{failure.Timeout, http.StatusGatewayTimeout},
		{failure.Internal, http.StatusInternalServerError},
		{"", http.StatusInternalServerError},
		{"made_up", http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			if got := Status(tc.kind); got != tc.want {
				t.Fatalf("Status(%q) = %d, want %d", tc.kind, got, tc.want)
			}
		})
	}
}

func TestWriteErrorBody(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		typ, msg   string
		retryAfter string
	}{
		{"rejected", failure.New(failure.Rejected, "insufficient_funds", "balance 0.00 is less than 5.00"), 422, "insufficient_funds", "balance 0.00 is less than 5.00", ""},
		{"invalid", failure.New(failure.Invalid, "invalid_amount", `"amount" is required`), 400, "invalid_amount", `"amount" is required`, ""},
		{"unavailable asks to retry", failure.New(failure.Unavailable, "store_unavailable", "retry later"), 503, "store_unavailable", "retry later", "1"},
		{"overloaded asks to retry", failure.New(failure.Overloaded, "overloaded", "busy"), 503, "overloaded", "busy", "1"},
		{"timeout", failure.New(failure.Timeout, "timeout", "unknown outcome"), 504, "timeout", "unknown outcome", ""},
		{"wrapped failure", errors.Join(errors.New("context"), failure.New(failure.NotFound, "not_found", "gone")), 404, "not_found", "gone", ""},
		{"plain error is internal, its text concealed", errors.New("boom"), 500, "internal", "internal error", ""},
		{"internal failure concealed", failure.New(failure.Internal, "bad_state", "state of x"), 500, "internal", "internal error", ""},
		{"html in message is escaped JSON", failure.New(failure.Invalid, "x", "<b>\"hi\"</b>"), 400, "x", "<b>\"hi\"</b>", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tc.err)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
				t.Fatalf("Content-Length %s, body is %d bytes", cl, rec.Body.Len())
			}
			var body map[string]map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", rec.Body, err)
			}
			e, ok := body["error"]
			if !ok || len(body) != 1 || len(e) != 2 || e["type"] != tc.typ || e["message"] != tc.msg {
				t.Fatalf("body %s; want {\"error\":{\"type\":%q,\"message\":%q}}", rec.Body, tc.typ, tc.msg)
			}
		})
	}
}

func TestWriteJSONAndRaw(t *testing.T) {
	tests := []struct {
		name   string
		write  func(w http.ResponseWriter)
		status int
		body   string
	}{
		{"json", func(w http.ResponseWriter) { WriteJSON(w, 201, map[string]int{"a": 1}) }, 201, "{\"a\":1}\n"},
		{"raw", func(w http.ResponseWriter) { WriteRaw(w, 200, []byte(`[1,2]`)) }, 200, "[1,2]\n"},
		{"unencodable", func(w http.ResponseWriter) { WriteJSON(w, 200, make(chan int)) }, 500, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.write(rec)
			if rec.Code != tc.status || (tc.body != "" && rec.Body.String() != tc.body) {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.body)
			}
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
				t.Fatalf("Content-Length %s, body is %d bytes", cl, rec.Body.Len())
			}
		})
	}
}
