package main

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestAcquireRenewRelease(t *testing.T) {
	s := startLock(t)
	r := s.post("myapp.resource", "acquire", `{"holder":"w1","ttl":"10s"}`)
	if r.status != 200 || r.body["name"] != "myapp.resource" || r.body["holder"] != "w1" || r.token() != 1 || r.body["expires"] == nil {
		t.Fatalf("acquire: %d %s", r.status, r.raw)
	}
	if r := s.post("myapp.resource", "acquire", `{"holder":"w2","ttl":"10s"}`); r.status != 409 || r.errType() != "locked" {
		t.Fatalf("acquire of a held lock: %d %s", r.status, r.raw)
	}
	if r := s.get("myapp.resource"); r.status != 200 || r.body["holder"] != "w1" || r.token() != 1 {
		t.Fatalf("GET: %d %s", r.status, r.raw)
	}
	if r := s.post("myapp.resource", "renew", `{"holder":"w1","token":1,"ttl":"20s"}`); r.status != 200 || r.token() != 1 {
		t.Fatalf("renew: %d %s", r.status, r.raw)
	}
	for _, body := range []string{`{"holder":"w2","token":1}`, `{"holder":"w1","token":2}`} {
		if r := s.post("myapp.resource", "release", body); r.status != 409 || r.errType() != "not_holder" {
			t.Fatalf("release %s: %d %s", body, r.status, r.raw)
		}
	}
	if r := s.post("myapp.resource", "release", `{"holder":"w1","token":1}`); r.status != 200 || r.body["holder"] != nil {
		t.Fatalf("release: %d %s", r.status, r.raw)
	}
	if r := s.get("myapp.resource"); r.status != 200 || r.body["holder"] != nil || r.body["token"] != nil {
		t.Fatalf("GET after release: %s", r.raw)
	}
	if r := s.post("myapp.resource", "acquire", `{"holder":"w2","ttl":"10s"}`); r.status != 200 || r.token() != 2 {
		t.Fatalf("acquire after release: %d %s (want token 2)", r.status, r.raw)
	}
}

// A waiting acquire is answered when the holder releases, in FIFO order, and never holds
// the writer: other commands of the lock are answered meanwhile.
func TestWaitGrantedInTurn(t *testing.T) {
	s := startLock(t)
	s.post("job", "acquire", `{"holder":"w1","ttl":"30s"}`)
	got := map[string]chan reply{}
	for _, w := range []string{"w2", "w3"} {
		c := make(chan reply, 1)
		got[w] = c
		go func() {
			c <- do(context.Background(), t, http.MethodPost, s.url+"/lock/job/acquire", `{"holder":"`+w+`","ttl":"30s","wait":true}`)
		}()
		s.waitWaiters("job", append(map[string][]string{"w2": nil, "w3": {"w2"}}[w], w)...)
	}
	if r := s.post("job", "renew", `{"holder":"w1","token":1,"ttl":"30s"}`); r.status != 200 {
		t.Fatalf("renew while two wait: %d %s", r.status, r.raw)
	}
	s.post("job", "release", `{"holder":"w1","token":1}`)
	r := <-got["w2"]
	if r.status != 200 || r.body["holder"] != "w2" || r.token() != 2 || r.body["name"] != "job" {
		t.Fatalf("w2: %d %s", r.status, r.raw)
	}
	select {
	case r := <-got["w3"]:
		t.Fatalf("w3 answered while w2 holds: %s", r.raw)
	default:
	}
	s.post("job", "release", `{"holder":"w2","token":2}`)
	if r := <-got["w3"]; r.status != 200 || r.body["holder"] != "w3" || r.token() != 3 {
		t.Fatalf("w3: %d %s", r.status, r.raw)
	}
}

// A wait that reaches its ?timeout= is 409 wait_timeout, and leaves the queue: the lock
// never goes to it afterwards.
func TestWaitTimeout(t *testing.T) {
	s := startLock(t)
	s.post("t", "acquire", `{"holder":"w1","ttl":"60s"}`)
	start := time.Now()
	r := do(context.Background(), t, http.MethodPost, s.url+"/lock/t/acquire?timeout=300ms", `{"holder":"w2","ttl":"5s","wait":true}`)
	if r.status != 409 || r.errType() != "wait_timeout" {
		t.Fatalf("wait: %d %s", r.status, r.raw)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("answered after %s, before its timeout", d)
	}
	s.waitWaiters("t")
	if evs := s.readEvents("t", 3); evs[2].typ != "wait_ended" || evs[2].data["reason"] != "timeout" {
		t.Fatalf("events: %+v, want the writer's end_wait timer to end the wait", evs)
	}
	s.post("t", "release", `{"holder":"w1","token":1}`)
	if r := s.get("t"); r.body["holder"] != nil {
		t.Fatalf("after release: %s (the timed-out waiter got it)", r.raw)
	}
}

// A client that hangs up ends its wait: it leaves the queue and is never granted.
func TestWaitCancelledOnHangUp(t *testing.T) {
	s := startLock(t)
	s.post("c", "acquire", `{"holder":"w1","ttl":"60s"}`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(ctx, t, http.MethodPost, s.url+"/lock/c/acquire", `{"holder":"w2","ttl":"5s","wait":true}`)
	}()
	s.waitWaiters("c", "w2")
	cancel()
	<-done
	s.waitWaiters("c")
	evs := s.readEvents("c", 3)
	if evs[2].typ != "wait_ended" || evs[2].data["reason"] != "cancelled" || evs[2].data["holder"] != "w2" {
		t.Fatalf("events: %+v", evs)
	}
	s.post("c", "release", `{"holder":"w1","token":1}`)
	if r := s.get("c"); r.body["holder"] != nil {
		t.Fatalf("after release: %s", r.raw)
	}
}

// Bad input is a C3 error and writes nothing.
func TestBadInput(t *testing.T) {
	s := startLock(t)
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'a'
	}
	for _, c := range []struct{ path, body, want string }{
		{"/lock/a%20b/acquire", `{"holder":"w1","ttl":"1s"}`, "invalid_id"},
		{"/lock/" + string(long) + "/acquire", `{"holder":"w1","ttl":"1s"}`, "invalid_id"},
		{"/lock/a*b/acquire", `{"holder":"w1","ttl":"1s"}`, "invalid_id"},
		{"/lock/b/acquire", `{"holder":"w1","ttl":"0s"}`, "invalid_ttl"},
		{"/lock/b/acquire", `{"holder":"w1","ttl":"-1s"}`, "invalid_ttl"},
		{"/lock/b/acquire", `{"holder":"w1","ttl":"100y"}`, "invalid_ttl"},
		{"/lock/b/acquire", `{"holder":"w1","ttl":"abc"}`, "invalid_ttl"},
		{"/lock/b/acquire", `{"holder":"w1","ttl":"1s","color":"red"}`, "unknown_field"},
		{"/lock/b/acquire?timeout=26s", `{"holder":"w1","ttl":"1s","wait":true}`, "invalid_timeout"},
		{"/lock/b/acquire?timeout=abc", `{"holder":"w1","ttl":"1s","wait":true}`, "invalid_timeout"},
		{"/lock/b/release", `{"holder":"w1","token":"1"}`, "invalid_token"},
		{"/lock/b/renew", `{"holder":"w1","token":"x","ttl":"1s"}`, "invalid_token"},
		{"/lock/b/cancel_wait", `{"wait_id":1}`, ""},
		{"/lock/b/expire", `{"token":1}`, ""},
	} {
		r := do(context.Background(), t, http.MethodPost, s.url+c.path, c.body)
		if c.want == "" { // not a route
			if r.status != 404 && r.status != 405 {
				t.Errorf("%s: %d %s, want no such route", c.path, r.status, r.raw)
			}
			continue
		}
		if r.status != 400 || r.errType() != c.want {
			t.Errorf("%s %s: %d %s, want 400 %s", c.path, c.body, r.status, r.raw, c.want)
		}
	}
	if r := s.get("b"); r.status != 200 || r.body["version"] != 0.0 {
		t.Errorf("GET b: %d %s: something was written", r.status, r.raw)
	}
	if r := s.get("a%20b"); r.status != 400 || r.errType() != "invalid_id" {
		t.Errorf("GET a%%20b: %d %s, want 400 invalid_id", r.status, r.raw)
	}
}

// A lock never taken is a free lock (C10): GET shows it free at version 0, writes
// nothing, and the first acquire gets token 1.
func TestNeverTakenIsFree(t *testing.T) {
	s := startLock(t)
	r := s.get("fresh")
	if r.status != 200 || r.body["id"] != "fresh" || r.body["version"] != 0.0 || r.body["holder"] != nil ||
		r.body["token"] != nil || r.body["expires"] != nil || r.body["last_token"] != 0.0 {
		t.Fatalf("GET of a lock never taken: %d %s, want it free at version 0", r.status, r.raw)
	}
	if w, ok := r.body["waiters"].([]any); !ok || len(w) != 0 {
		t.Fatalf("GET of a lock never taken: waiters %v, want []", r.body["waiters"])
	}
	if r := s.get("fresh"); r.status != 200 || r.body["version"] != 0.0 {
		t.Fatalf("second GET: %d %s: the read wrote something", r.status, r.raw)
	}
	if r := s.post("fresh", "acquire", `{"holder":"w1","ttl":"30s"}`); r.status != 200 || r.token() != 1 {
		t.Fatalf("first acquire: %d %s, want token 1", r.status, r.raw)
	}
	if r := s.get("fresh"); r.status != 200 || r.body["holder"] != "w1" || r.body["version"] != 1.0 {
		t.Fatalf("GET after acquire: %d %s", r.status, r.raw)
	}
}

// Lock "x.events" and lock "x" keep apart: state, events and live events.
func TestNamesNeverCollide(t *testing.T) {
	s := startLock(t)
	for _, c := range []struct{ name, holder string }{{"x", "hx"}, {"x.events", "hxe"}, {"x.", "hxd"}, {"x:events", "hxc"}} {
		if r := s.post(c.name, "acquire", `{"holder":"`+c.holder+`","ttl":"30s"}`); r.status != 200 || r.body["name"] != c.name {
			t.Fatalf("acquire %s: %d %s", c.name, r.status, r.raw)
		}
	}
	for _, c := range []struct{ name, holder string }{{"x", "hx"}, {"x.events", "hxe"}, {"x.", "hxd"}, {"x:events", "hxc"}} {
		if r := s.get(c.name); r.status != 200 || r.body["holder"] != c.holder || r.body["id"] != c.name {
			t.Fatalf("GET %s: %s", c.name, r.raw)
		}
		if ev := s.readEvents(c.name, 1)[0]; ev.typ != "acquired" || ev.data["holder"] != c.holder {
			t.Fatalf("%s/events: %+v", c.name, ev)
		}
	}
}

// A lease not renewed expires and passes at once to the next waiter; the old holder's
// token is refused afterwards. The name holds a dot, which its stream encodes: the timer
// still finds its lock.
func TestExpiryHandsOver(t *testing.T) {
	s := startLock(t)
	r1 := s.post("e.1", "acquire", `{"holder":"w1","ttl":"500ms"}`)
	got := make(chan reply, 1)
	go func() {
		got <- do(context.Background(), t, http.MethodPost, s.url+"/lock/e.1/acquire", `{"holder":"w2","ttl":"10s","wait":true}`)
	}()
	r := <-got
	if r.status != 200 || r.body["holder"] != "w2" || r.token() != 2 {
		t.Fatalf("w2: %d %s", r.status, r.raw)
	}
	expires1, _ := time.Parse(time.RFC3339Nano, r1.body["expires"].(string))
	if time.Now().Before(expires1) {
		t.Fatalf("w2 granted before w1's lease ended (%s)", r1.body["expires"])
	}
	if r := s.post("e.1", "renew", `{"holder":"w1","token":1,"ttl":"10s"}`); r.status != 409 || r.errType() != "not_holder" {
		t.Fatalf("renew by the expired holder: %d %s", r.status, r.raw)
	}
}

// A lease that ends while the writer is down passes to the waiter once it is back; the
// server held the waiter's request meanwhile.
func TestExpiryAcrossWriterRestart(t *testing.T) {
	s := startLock(t)
	r1 := s.post("r", "acquire", `{"holder":"w1","ttl":"1s"}`)
	got := make(chan reply, 1)
	go func() {
		got <- do(context.Background(), t, http.MethodPost, s.url+"/lock/r/acquire", `{"holder":"w2","ttl":"10s","wait":true}`)
	}()
	s.waitWaiters("r", "w2")
	s.stopW()
	expires1, _ := time.Parse(time.RFC3339Nano, r1.body["expires"].(string))
	time.Sleep(time.Until(expires1)) // the lease ends while the writer is down
	select {
	case r := <-got:
		t.Fatalf("answered while the writer is down: %s", r.raw)
	default:
	}
	s.startWriter()
	if r := <-got; r.status != 200 || r.body["holder"] != "w2" || r.token() != 2 {
		t.Fatalf("w2: %d %s", r.status, r.raw)
	}
	if evs := s.readEvents("r", 4); evs[2].typ != "expired" || evs[3].typ != "acquired" {
		t.Fatalf("events: %+v", evs)
	}
}

// A wait whose writer is down when it should end is answered anyway (503 or 504: its
// outcome unknown to the server), never left hanging; once the writer is back, its
// timer ends the wait and the lock never goes to it.
func TestWaitWithWriterDown(t *testing.T) {
	s := startLock(t)
	s.post("down", "acquire", `{"holder":"w1","ttl":"60s"}`)
	got := make(chan reply, 1)
	start := time.Now()
	go func() {
		got <- do(context.Background(), t, http.MethodPost, s.url+"/lock/down/acquire?timeout=300ms", `{"holder":"w2","ttl":"5s","wait":true}`)
	}()
	s.waitWaiters("down", "w2")
	s.stopW()
	r := <-got
	if r.status != 503 && r.status != 504 {
		t.Fatalf("wait with the writer down: %d %s", r.status, r.raw)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("answered after %s", d)
	}
	s.startWriter()
	s.waitWaiters("down")
	if evs := s.readEvents("down", 3); evs[2].typ != "wait_ended" || evs[2].data["reason"] != "timeout" {
		t.Fatalf("events: %+v", evs)
	}
}

// A waiting acquire retried with its Idempotency-Key gets the outcome of its first wait,
// here granted while the client was away.
func TestWaitRetriedWithIdempotencyKey(t *testing.T) {
	s := startLock(t)
	s.post("idem", "acquire", `{"holder":"w1","ttl":"60s"}`)
	key := http.Header{"Idempotency-Key": {"wait-1"}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		doWith(ctx, t, http.MethodPost, s.url+"/lock/idem/acquire", `{"holder":"w2","ttl":"30s","wait":true}`, key)
	}()
	s.waitWaiters("idem", "w2")
	s.post("idem", "release", `{"holder":"w1","token":1}`) // granted to w2 while its client waits
	if r := s.get("idem"); r.body["holder"] != "w2" {
		t.Fatalf("after release: %s", r.raw)
	}
	cancel()
	<-done
	r := doWith(context.Background(), t, http.MethodPost, s.url+"/lock/idem/acquire", `{"holder":"w2","ttl":"30s","wait":true}`, key)
	if r.status != 200 || r.body["holder"] != "w2" || r.token() != 2 {
		t.Fatalf("retry: %d %s, want w2's grant of token 2", r.status, r.raw)
	}
	if r := s.get("idem"); r.body["holder"] != "w2" || len(r.body["waiters"].([]any)) != 0 {
		t.Fatalf("after the retry: %s (nothing may change)", r.raw)
	}
}
