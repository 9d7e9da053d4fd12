package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/httpapi"
)

// serve mounts p's notifier on a router as a session server would and serves it.
func serve(t testing.TB, p parts) string {
	t.Helper()
	r := httpapi.NewRouter()
	p.n.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// post sends body as curl -d does (form encoding declared) and decodes the JSON answer.
func post(t testing.TB, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("POST %s: Content-Type %q", url, ct)
	}
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, v
}

// stream opens GET /session/{id}/notifications and returns its lines as they come.
func stream(t testing.TB, base, id string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/session/"+id+"/notifications", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET notifications: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

// next returns the next event of lines: its lines up to the blank one, comments aside.
func next(t testing.TB, lines <-chan string) []string {
	t.Helper()
	var ev []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended; event so far %q", ev)
			}
			switch {
			case l == "" && len(ev) > 0:
				return ev
			case l == "" || strings.HasPrefix(l, ":"):
			default:
				ev = append(ev, l)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no event within 20 s; so far %q", ev)
		}
	}
}

// TestHTTPNotifications: a client of GET /session/{id}/notifications, once it has the
// headers, receives what POST /session/{id}/notify and POST /notify send to its session,
// framed as C8 without id:.
func TestHTTPNotifications(t *testing.T) {
	p := startParts(t)
	base := serve(t, p)
	id, other := newID(), newID()
	writeSessions(t, p.rdb, []session{
		{id: id, attributes: map[string]map[string]string{"app": {"tier": "gold"}}},
		{id: other, attributes: map[string]map[string]string{"app": {"tier": "silver"}}},
	})
	lines := stream(t, base, id)
	if ev := next(t, lines); len(ev) != 1 || ev[0] != "retry: 1000" {
		t.Fatalf("first: %q", ev)
	}
	status, rec := post(t, base+"/session/"+id+"/notify", `{"namespace":"app","type":"greeting","payload":{"text":"hi"}}`)
	if status != 200 || rec["sessions"] != 1.0 || len(rec["id"].(string)) != 27 {
		t.Fatalf("notify: %d %v", status, rec)
	}
	ev := next(t, lines)
	if len(ev) != 2 || ev[0] != "event: greeting" || !strings.HasPrefix(ev[1], "data: {") {
		t.Fatalf("event: %q", ev)
	}
	var n Notification
	if err := json.Unmarshal([]byte(strings.TrimPrefix(ev[1], "data: ")), &n); err != nil {
		t.Fatal(err)
	}
	if n.ID != rec["id"] || n.Session != id || n.Namespace != "app" || n.Type != "greeting" || string(n.Payload) != `{"text":"hi"}` {
		t.Fatalf("notification %+v", n)
	}
	status, rec = post(t, base+"/notify", `{"namespace":"app","type":"offer","constraint":{"op":"equal","key":"tier","value":"gold"}}`)
	if status != 200 || rec["sessions"] != 1.0 {
		t.Fatalf("notify many: %d %v", status, rec)
	}
	ev = next(t, lines)
	if len(ev) != 2 || ev[0] != "event: offer" ||
		!strings.Contains(ev[1], `"constraint":{"op":"equal","key":"tier","value":"gold"}`) || !strings.Contains(ev[1], `"payload":null`) {
		t.Fatalf("event: %q", ev)
	}
}

// TestHTTPBadInput: each bad request is a C3 error of the right status and type, before
// anything is sent.
func TestHTTPBadInput(t *testing.T) {
	p := startParts(t)
	o := observe(t, p.conn(t))
	base := serve(t, p)
	id, gone := newID(), newID()
	writeSessions(t, p.rdb, []session{{id: gone, destroyed: true}})
	one, many := base+"/session/"+id+"/notify", base+"/notify"
	tests := []struct {
		name, method, url, body string
		status                  int
		typ, message            string
	}{
		{"stream: id not a KSUID", "GET", base + "/session/nope/notifications", "", 400, "invalid_id", "KSUID"},
		{"stream: destroyed session", "GET", base + "/session/" + gone + "/notifications", "", 404, "not_found", "destroyed"},
		{"one: id not a KSUID", "POST", base + "/session/nope/notify", `{"namespace":"app","type":"t"}`, 400, "invalid_id", "KSUID"},
		{"one: destroyed session", "POST", base + "/session/" + gone + "/notify", `{"namespace":"app","type":"t"}`, 404, "not_found", "destroyed"},
		{"one: not JSON", "POST", one, `namespace=app`, 400, "invalid_body", "want a JSON object"},
		{"one: empty body", "POST", one, ``, 400, "invalid_body", "want a JSON object"},
		{"one: an array", "POST", one, `[]`, 400, "invalid_body", "want a JSON object"},
		{"one: two values", "POST", one, `{"namespace":"app","type":"t"} {}`, 400, "invalid_body", "more than one JSON value"},
		{"one: unknown field", "POST", one, `{"namespace":"app","type":"t","urgent":true}`, 400, "invalid_body", `unknown field "urgent"`},
		{"one: namespace missing", "POST", one, `{"type":"t"}`, 400, "invalid_body", `"namespace" is missing`},
		{"one: namespace a number", "POST", one, `{"namespace":5,"type":"t"}`, 400, "invalid_body", `"namespace" must be a string`},
		{"one: type missing", "POST", one, `{"namespace":"app"}`, 400, "invalid_body", `"type" is missing`},
		{"one: namespace reserved", "POST", one, `{"namespace":"_app","type":"t"}`, 400, "invalid_namespace", "reserved"},
		{"one: namespace syntax", "POST", one, `{"namespace":"a b","type":"t"}`, 400, "invalid_namespace", "A-Z"},
		{"one: type syntax", "POST", one, `{"namespace":"app","type":"a b"}`, 400, "invalid_type", "A-Z"},
		{"one: a constraint", "POST", one, `{"namespace":"app","type":"t","constraint":{"op":"none"}}`, 400, "invalid_body", "POST /notify"},
		{"one: payload too large", "POST", one, `{"namespace":"app","type":"t","payload":"` + strings.Repeat("x", MaxPayload) + `"}`, 413, "payload_too_large", "over"},
		{"one: body too large", "POST", one, `{"namespace":"app","type":"t","payload":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`, 413, "body_too_large", "at most"},
		{"many: constraint missing", "POST", many, `{"namespace":"app","type":"t"}`, 400, "invalid_body", `"constraint" is missing`},
		{"many: constraint null", "POST", many, `{"namespace":"app","type":"t","constraint":null}`, 400, "invalid_constraint", "want a JSON object"},
		{"many: constraint bad", "POST", many, `{"namespace":"app","type":"t","constraint":{"op":"and","terms":[{"op":"equal","key":"k"}]}}`, 400, "invalid_constraint", `constraint.terms[0]: equal needs "value"`},
		{"many: unknown op", "POST", many, `{"namespace":"app","type":"t","constraint":{"op":"within"}}`, 400, "invalid_constraint", `within needs "namespace"`},
		{"many: namespace reserved", "POST", many, `{"namespace":"_x","type":"t","constraint":{"op":"none"}}`, 400, "invalid_namespace", "reserved"},
		{"many: payload not JSON", "POST", many, `{"namespace":"app","type":"t","constraint":{"op":"none"},"payload":}`, 400, "invalid_body", "invalid character"},
		{"many: GET", "GET", many, "", 405, "method_not_allowed", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Type, Message string } `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s, not a C3 error: %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
			}
			if resp.StatusCode != tt.status || e.Error.Type != tt.typ || !strings.Contains(e.Error.Message, tt.message) {
				t.Fatalf("%d %s %q, want %d %s containing %q", resp.StatusCode, e.Error.Type, e.Error.Message, tt.status, tt.typ, tt.message)
			}
		})
	}
	marker := o.sync(t, p.n)
	if ids := o.ids(); len(ids) != 1 || ids[0] != marker {
		t.Fatalf("sent %v besides the marker %s", ids, marker)
	}
}

// TestHTTPStreamEndsOnDestroy: a session's notification stream ends once an event of the
// session shows it destroyed in the read model; an event that does not keeps it open.
func TestHTTPStreamEndsOnDestroy(t *testing.T) {
	p := startParts(t)
	base := serve(t, p)
	id := newID()
	writeSessions(t, p.rdb, []session{{id: id, attributes: map[string]map[string]string{"app": {"k": "v"}}}})
	lines := stream(t, base, id)
	next(t, lines) // retry:
	nc := p.conn(t)
	// an event of the session that leaves it alive: the stream goes on
	if err := nc.Publish("events.session."+id, []byte(`{"version":2}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.n.Notify(context.Background(), id, "app", "still-open", nil); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, lines); ev[0] != "event: still-open" {
		t.Fatalf("event %q", ev)
	}
	writeSessions(t, p.rdb, []session{{id: id, destroyed: true}})
	if err := nc.Publish("events.session."+id, []byte(`{"version":3}`)); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return // ended
			}
			if l != "" && !strings.HasPrefix(l, ":") {
				t.Fatalf("after destroy: %q", l)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the stream of a destroyed session did not end within 20 s")
		}
	}
}
