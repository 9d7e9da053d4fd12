package history_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
)

type pageBody struct {
	Events []history.Entry `json:"events"`
	Newest int64           `json:"newest"`
	Next   int64           `json:"next"`
	Error  *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func get(t *testing.T, srv *httptest.Server, path string) (int, pageBody) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	var b pageBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", path, err)
	}
	return resp.StatusCode, b
}

func historyServer(t *testing.T, n int) *httptest.Server {
	t.Helper()
	s := openHistory(t)
	if n > 0 {
		if _, err := s.Append(context.Background(), evs(1, n)); err != nil {
			t.Fatal(err)
		}
	}
	r := httpapi.NewRouter()
	history.Mount(r, s)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func TestGetHistoryPages(t *testing.T) {
	srv := historyServer(t, 5)
	tests := []struct {
		name string
		path string
		want []int64
		next int64
	}{
		{"defaults", "/history", []int64{1, 2, 3, 4, 5}, 5},
		{"first page", "/history?limit=2", []int64{1, 2}, 2},
		{"second page", "/history?after=2&limit=2", []int64{3, 4}, 4},
		{"last page", "/history?after=4&limit=2", []int64{5}, 5},
		{"caught up keeps next", "/history?after=5", []int64{}, 5},
		{"after beyond newest", "/history?after=9", []int64{}, 9},
		{"limit 1", "/history?after=3&limit=1", []int64{4}, 4},
		{"limit max", "/history?limit=1000", []int64{1, 2, 3, 4, 5}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, b := get(t, srv, tc.path)
			if code != http.StatusOK || b.Error != nil {
				t.Fatalf("status %d, error %+v", code, b.Error)
			}
			if !slices.Equal(positions(b.Events), tc.want) || b.Next != tc.next || b.Newest != 5 {
				t.Fatalf("events %v next %d newest %d; want %v next %d newest 5", positions(b.Events), b.Next, b.Newest, tc.want, tc.next)
			}
		})
	}
}

func TestGetHistoryEmptyIsAnEmptyList(t *testing.T) {
	srv := historyServer(t, 0)
	resp, err := http.Get(srv.URL + "/history")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || string(raw["events"]) != "[]" || string(raw["newest"]) != "0" || string(raw["next"]) != "0" {
		t.Fatalf("status %d body %v; want 200 with events [] newest 0 next 0", resp.StatusCode, raw)
	}
}

func TestGetHistoryBadParams(t *testing.T) {
	srv := historyServer(t, 1)
	tests := []struct {
		name     string
		path     string
		wantType string
	}{
		{"after not a number", "/history?after=abc", "invalid_after"},
		{"after negative", "/history?after=-1", "invalid_after"},
		{"after too big", "/history?after=9223372036854775807", "invalid_after"},
		{"after overflow", "/history?after=99999999999999999999", "invalid_after"},
		{"after decimal", "/history?after=1.5", "invalid_after"},
		{"limit zero", "/history?limit=0", "invalid_limit"},
		{"limit negative", "/history?limit=-5", "invalid_limit"},
		{"limit over max", "/history?limit=1001", "invalid_limit"},
		{"limit not a number", "/history?limit=ten", "invalid_limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, b := get(t, srv, tc.path)
			if code != http.StatusBadRequest || b.Error == nil || b.Error.Type != tc.wantType || b.Error.Message == "" {
				t.Fatalf("status %d error %+v; want 400 %s", code, b.Error, tc.wantType)
			}
		})
	}
}

func TestHistoryRouterAnswersUnknownInJSON(t *testing.T) {
	srv := historyServer(t, 0)
	tests := []struct {
		name, method, path string
		code               int
		wantType           string
	}{
		{"unknown route", "GET", "/nope", http.StatusNotFound, "no_route"},
		{"wrong method", "POST", "/history", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b pageBody
			if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || resp.StatusCode != tc.code || b.Error == nil || b.Error.Type != tc.wantType {
				t.Fatalf("status %d error %+v (%v); want %d %s", resp.StatusCode, b.Error, err, tc.code, tc.wantType)
			}
		})
	}
}
