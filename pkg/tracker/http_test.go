package tracker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/tracker"
)

// startTracker runs the tracker service (Run) on a :0 port against historyURL.
func startTracker(t testing.TB, historyURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tracker.Run(ctx, tracker.Config{Common: service.Common{Listener: ln},
			Options: tracker.Options{HistoryURL: historyURL}})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, _ := get(t, base+"/readyz"); code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the tracker was not ready in 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Bad parameters are C3 JSON errors (400) from the API and an HTML page from the page;
// good ones answer 200.
func TestAPIBadInput(t *testing.T) {
	store, srv := historyServer(t)
	f := newFlows(time.Now().UTC().Round(0), time.Millisecond)
	f.mixed(3)
	locks := f.locks("printer")
	appendAll(t, store, f.events, 100)
	base := startTracker(t, srv.URL)
	waitReady(t, base)

	bad := []struct{ name, query, typ string }{
		{"unknown state", "state=done", "invalid_state"},
		{"unknown parameter", "state=in_flight&color=red", "unknown_parameter"},
		{"state twice", "state=in_flight&state=completed", "invalid_state"},
		{"limit zero", "limit=0", "invalid_limit"},
		{"limit not a number", "limit=ten", "invalid_limit"},
		{"limit too large", "limit=1001", "invalid_limit"},
		{"domain with a space", "domain=a%20b", "invalid_domain"},
		{"domain too long", "domain=" + strings.Repeat("a", 65), "invalid_domain"},
		{"queue with a slash", "queue=a/b", "invalid_queue"},
		{"search with a space", "q=a%20b", "invalid_q"},
		{"search empty", "q=", "invalid_q"},
		{"search with a control character", "q=%00", "invalid_q"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			code, ctype, body := get(t, base+"/tracker/api/items?"+tc.query)
			var e struct {
				Error struct{ Type, Message string }
			}
			if code != 400 || ctype != "application/json" || json.Unmarshal([]byte(body), &e) != nil || e.Error.Type != tc.typ || e.Error.Message == "" {
				t.Fatalf("API: %d %s %s; want 400 application/json %s", code, ctype, body, tc.typ)
			}
			code, ctype, body = get(t, base+"/tracker/?"+tc.query)
			if code != 400 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, tc.typ) {
				t.Fatalf("page: %d %s %s; want 400 text/html naming %s", code, ctype, body, tc.typ)
			}
		})
	}
	for _, path := range []string{"/tracker/api/counters?x=1", "/tracker/api/events?after=3"} {
		if code, _, body := get(t, base+path); code != 400 || !strings.Contains(body, "unknown_parameter") {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	if code, _, body := get(t, base+"/tracker/api/nope"); code != 404 || !strings.Contains(body, `"no_route"`) {
		t.Errorf("unknown API path: %d %s", code, body)
	}

	code, _, body := get(t, base+"/tracker/api/items?state=completed&domain=A&limit=2")
	var page struct {
		State string
		Total int
		Items []tracker.Item
	}
	if code != 200 || json.Unmarshal([]byte(body), &page) != nil || page.State != "completed" || page.Total != 3 || len(page.Items) != 2 {
		t.Fatalf("completed in A: %d %s", code, body)
	}
	if page.Items[0].Completed.Before(page.Items[1].Completed) || page.Items[0].AgeMS <= 0 {
		t.Errorf("completed items not newest first, or without their duration: %+v", page.Items)
	}
	// A lock's grants: in flight while held or waiting, where the lock is, with holder and token.
	code, _, body = get(t, base+"/tracker/api/items?state=in_flight&domain=lock&q=printer")
	if code != 200 || json.Unmarshal([]byte(body), &page) != nil || page.Total != 2 ||
		!strings.Contains(body, `{"correlation_id":"`+locks["held"]+`","kind":"lock","status":"in_flight","domain":"lock","where":"lock.printer","state":"held","retries":0,"holder":"erin","token":3,`) ||
		!strings.Contains(body, `{"correlation_id":"`+locks["waiting"]+`","kind":"lock","status":"in_flight","domain":"lock","where":"lock.printer","state":"waiting","retries":0,"holder":"frank",`) {
		t.Errorf("the lock's grants in flight: %d %s", code, body)
	}
	code, ctype, body := get(t, base+"/tracker/?state=completed&domain=A")
	if code != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, `<table id="inflight"`) {
		t.Errorf("page: %d %s %.200s", code, ctype, body)
	}
	for _, asset := range []string{"/tracker/app.js", "/tracker/style.css"} {
		if code, _, _ := get(t, base+asset); code != 200 {
			t.Errorf("%s: %d", asset, code)
		}
	}
}

// Before the replay is done the API answers 503 replaying and /readyz 503; the page's
// stream then sends each item the live history changes.
func TestAPIReplayingThenLive(t *testing.T) {
	store, srv := historyServer(t)
	var up atomic.Bool // the history answers 503 until then
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		gate.CloseClientConnections()
		gate.Close()
	})
	base := startTracker(t, gate.URL)
	code, _, body := get(t, base+"/tracker/api/items?state=in_flight")
	if code != 503 || !strings.Contains(body, `"replaying"`) {
		t.Fatalf("before the replay: %d %s", code, body)
	}
	if code, _, _ := get(t, base+"/readyz"); code != 503 {
		t.Fatalf("/readyz before the replay: %d", code)
	}
	up.Store(true)
	waitReady(t, base)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/tracker/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f := newFlows(time.Now().UTC().Round(0), time.Millisecond)
	id := f.payment()
	appendAll(t, store, f.events, 1)
	r := bufio.NewReader(resp.Body)
	var states []string
	for len(states) < 4 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("events: %v after %v", err, states)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var it tracker.Item
			if err := json.Unmarshal([]byte(data), &it); err != nil || it.ID != id {
				t.Fatalf("event data %q: %v", data, err)
			}
			states = append(states, it.Status+"/"+it.State)
		}
	}
	want := "in_flight/queued in_flight/processing in_flight/processing completed/committed"
	if got := strings.Join(states, " "); got != want {
		t.Fatalf("the payment went %s, want %s", got, want)
	}
}
