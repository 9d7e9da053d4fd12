package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRouterAndHealth(t *testing.T) {
	r := NewRouter()
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	MountHealth(r, map[string]Check{
		"good": func(context.Context) error { return nil },
	})
	bad := NewRouter()
	MountHealth(bad, map[string]Check{
		"good":  func(context.Context) error { return nil },
		"redis": func(context.Context) error { return errors.New("connection refused") },
	})
	tests := []struct {
		name   string
		router http.Handler
		method string
		path   string
		status int
		want   map[string]any
	}{
		{"unknown route", r, "GET", "/nope", 404, map[string]any{"error": map[string]any{"type": "no_route", "message": "no route for GET /nope"}}},
		{"wrong method", r, "DELETE", "/healthz", 405, map[string]any{"error": map[string]any{"type": "method_not_allowed", "message": "DELETE is not allowed on /healthz"}}},
		{"panic becomes 500", r, "GET", "/panic", 500, map[string]any{"error": map[string]any{"type": "internal", "message": "internal error; correlation id c-1"}}},
		{"healthz", r, "GET", "/healthz", 200, map[string]any{"status": "ok"}},
		{"readyz ok", r, "GET", "/readyz", 200, map[string]any{"good": "ok"}},
		{"readyz failing check", bad, "GET", "/readyz", 503, map[string]any{"good": "ok", "redis": "connection refused"}},
		{"healthz ignores checks", bad, "GET", "/healthz", 200, map[string]any{"status": "ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, tc.path, nil)
			req.Header.Set(CorrelationHeader, "c-1")
			tc.router.ServeHTTP(rec, req)
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", rec.Body, err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tc.want)
			if rec.Code != tc.status || string(gotJSON) != string(wantJSON) {
				t.Fatalf("got %d %s, want %d %s", rec.Code, gotJSON, tc.status, wantJSON)
			}
		})
	}
}
