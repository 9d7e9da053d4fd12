package service_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	sessiondom "uneventful.dev/uneventful/domains/session"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/gateway"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// sessions is a stack running the session domain beside the wallet (C9).
type sessions struct {
	t   *testing.T
	s   *stacktest.Stack
	dom stacktest.Domain
	db  *sql.DB
}

func startSessions(t *testing.T) *sessions {
	s := stacktest.Start(t)
	dom := stacktest.StartDomain(s, sessiondom.Domain{})
	db, err := sqlite.OpenDB(dom.DB, true, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &sessions{t: t, s: s, dom: dom, db: db}
}

func (ss *sessions) url(id string, sub ...string) string {
	return ss.dom.URL + "/session/" + id + strings.Join(append([]string{""}, sub...), "/")
}

// post sends command cmd with body; ifMatch "-" sends no If-Match, else it is the version.
func (ss *sessions) post(id, cmd, body, ifMatch string) response {
	ss.t.Helper()
	if ifMatch == "-" {
		return must(ss.t, "POST", ss.url(id, cmd), body)
	}
	return must(ss.t, "POST", ss.url(id, cmd), body, "If-Match", `"`+ifMatch+`"`)
}

// rows counts the event log rows of session id (every command the writer recorded).
func (ss *sessions) rows(id string) int {
	return count(ss.t, ss.db, `SELECT count(*) FROM event WHERE stream = ?`, "session."+id)
}

// is requires r to be status code with error type typ ("" for a success).
func is(t *testing.T, what string, r response, code int, typ string) {
	t.Helper()
	if r.Code != code || r.errType() != typ {
		t.Fatalf("%s: %s, want %d %s", what, r, code, typ)
	}
}

// TestSessionRules walks every rule of C9 through HTTP on one session: If-Match required
// and checked, atomic updates within a namespace, removal by empty value, freezing,
// clearing, bad input refused with nothing written, reads as of a revision, destroy, and
// what an ended session answers.
func TestSessionRules(t *testing.T) {
	ss := startSessions(t)
	id := ksuid.New().String()
	states := map[int64]string{} // version -> the state document answered

	// Nothing is written without If-Match, or with a stale one.
	is(t, "update without If-Match", ss.post(id, "update", `{"namespace":"ns","attributes":{"a":"1"}}`, "-"), 428, "if_match_required")
	is(t, "GET a session never written", must(t, "GET", ss.url(id), ""), 404, "not_found")
	is(t, "update at version 1 of a new session", ss.post(id, "update", `{"namespace":"ns","attributes":{"a":"1"}}`, "1"), 412, "version_mismatch")
	if n := ss.rows(id); n != 1 { // the stale one is recorded as refused, the one without If-Match not at all
		t.Fatalf("%d event log rows, want 1 (the refused stale update)", n)
	}

	// Version 1: a new session at "0", several attributes of one namespace at once.
	r := ss.post(id, "update", `{"namespace":"ns","attributes":{"a":"1","b":"2","c":"3"}}`, "0")
	is(t, `update at "0"`, r, 200, "")
	want := `{"id":"` + id + `","version":1,"attributes":{"ns":{"a":{"value":"1","frozen":false},"b":{"value":"2","frozen":false},"c":{"value":"3","frozen":false}}}}`
	if strings.TrimSpace(string(r.Body)) != want || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("update reply %s ETag %s, want %s", r.Body, r.Header.Get("ETag"), want)
	}
	states[1] = want
	g := must(t, "GET", ss.url(id), "")
	if g.Code != 200 || strings.TrimSpace(string(g.Body)) != want || g.Header.Get("ETag") != `"1"` {
		t.Fatalf("GET after the update: %s ETag %s, want the update's reply", g, g.Header.Get("ETag"))
	}
	is(t, `update at "0" again`, ss.post(id, "update", `{"namespace":"ns","attributes":{"a":"x"}}`, "0"), 412, "version_mismatch")

	// Version 2: an empty value removes a key, in the same update as a change and a freeze.
	r = ss.post(id, "update", `{"namespace":"ns","attributes":{"a":"","b":"22"},"freeze":["c"]}`, "1")
	is(t, "remove, change and freeze", r, 200, "")
	states[2] = `{"id":"` + id + `","version":2,"attributes":{"ns":{"b":{"value":"22","frozen":false},"c":{"value":"3","frozen":true}}}}`
	if strings.TrimSpace(string(r.Body)) != states[2] {
		t.Fatalf("reply %s, want %s", r.Body, states[2])
	}

	// Frozen: an update touching c, even with another key, changes nothing; nor does a clear.
	before := ss.rows(id)
	is(t, "change a frozen attribute", ss.post(id, "update", `{"namespace":"ns","attributes":{"b":"x","c":"x"}}`, "2"), 422, "frozen_attribute")
	is(t, "remove a frozen attribute", ss.post(id, "update", `{"namespace":"ns","attributes":{"c":""}}`, "2"), 422, "frozen_attribute")
	is(t, "clear a namespace with a frozen value", ss.post(id, "clear", `{"namespace":"ns"}`, "2"), 422, "frozen_attribute")
	if g := must(t, "GET", ss.url(id), ""); strings.TrimSpace(string(g.Body)) != states[2] {
		t.Fatalf("refused commands changed the session: %s", g)
	}

	// Bad input: 400, nothing recorded.
	for _, bad := range []struct{ cmd, body, typ string }{
		{"update", `{"namespace":"n s","attributes":{"a":"1"}}`, "invalid_namespace"},
		{"update", `{"namespace":"_private","attributes":{"a":"1"}}`, "reserved_namespace"},
		{"clear", `{"namespace":"_private"}`, "reserved_namespace"},
		{"update", `{"namespace":"ns","attributes":{"a":"1"},"ttl":"5s"}`, "unknown_field"},
		{"update", `{"namespace":"ns","attributes":{"a":"` + strings.Repeat("x", sessiondom.MaxValueBytes+1) + `"}}`, "value_too_large"},
		{"update", `{"namespace":"ns","attributes":{"a/b":"1"}}`, "invalid_key"},
		{"update", `{"namespace":"ns","attributes":{"a":1}}`, "invalid_attributes"},
		{"update", `namespace=ns`, "invalid_json"},
		{"destroy", `{"force":true}`, "unknown_field"},
	} {
		is(t, bad.cmd+" "+bad.typ, ss.post(id, bad.cmd, bad.body, "2"), 400, bad.typ)
	}
	is(t, "If-Match not a version", must(t, "POST", ss.url(id, "clear"), `{"namespace":"ns"}`, "If-Match", "abc"), 400, "invalid_if_match")
	is(t, "an id that is not a KSUID", ss.post("not-a-ksuid", "clear", `{"namespace":"ns"}`, "0"), 400, "invalid_id")
	if n := ss.rows(id); n != before+3 { // the three frozen refusals only
		t.Fatalf("%d event log rows after the refusals, want %d", n, before+3)
	}

	// More attributes than a session holds: 400, in one update or across namespaces.
	var many []string
	for i := range sessiondom.MaxAttributes - 2 { // the session holds b and c
		many = append(many, `"k`+strconv.Itoa(i)+`":"v"`)
	}
	is(t, "fill the session", ss.post(id, "update", `{"namespace":"other","attributes":{`+strings.Join(many, ",")+`}}`, "2"), 200, "")
	is(t, "one attribute too many", ss.post(id, "update", `{"namespace":"third","attributes":{"one":"more"}}`, "3"), 400, "too_many_attributes")
	states[3] = strings.TrimSpace(string(must(t, "GET", ss.url(id), "").Body))

	// Version 4: clear the namespace holding 254 attributes; version 5: clear one holding
	// a frozen empty attribute keeps it.
	r = ss.post(id, "clear", `{"namespace":"other"}`, "3")
	is(t, "clear", r, 200, "")
	if strings.TrimSpace(string(r.Body)) != strings.Replace(states[2], `"version":2`, `"version":4`, 1) {
		t.Fatalf("clear reply %s", r.Body)
	}
	states[4] = strings.TrimSpace(string(r.Body))
	is(t, "freeze an empty attribute", ss.post(id, "update", `{"namespace":"x","freeze":["e"]}`, "4"), 200, "")
	r = ss.post(id, "clear", `{"namespace":"x"}`, "5")
	is(t, "clear keeps a frozen empty attribute", r, 200, "")
	if !strings.Contains(string(r.Body), `"x":{"e":{"value":"","frozen":true}}`) {
		t.Fatalf("clear of x: %s", r.Body)
	}
	is(t, "a frozen empty attribute gets no value", ss.post(id, "update", `{"namespace":"x","attributes":{"e":"1"}}`, "6"), 422, "frozen_attribute")

	// Reads as of a revision.
	for v, doc := range states {
		g := must(t, "GET", ss.url(id)+"?revision="+strconv.FormatInt(v, 10), "")
		if g.Code != 200 || strings.TrimSpace(string(g.Body)) != doc || g.Header.Get("ETag") != `"`+strconv.FormatInt(v, 10)+`"` {
			t.Fatalf("GET ?revision=%d: %.300s ETag %s, want %.300s", v, g, g.Header.Get("ETag"), doc)
		}
	}
	for _, q := range []string{"0", "-1", "abc", "", "7", "99999999999999999999"} {
		is(t, "GET ?revision="+q, must(t, "GET", ss.url(id)+"?revision="+q, ""), 400, "invalid_revision")
	}
	is(t, "GET ?revision=1 of a session never written", must(t, "GET", ss.url(ksuid.New().String())+"?revision=1", ""), 404, "not_found")

	// Redis holds the document the notifications read: {"id","version","attributes"}.
	doc, err := redisClient(t, ss.s).Get(context.Background(), "session."+id).Result()
	if err != nil || doc != strings.TrimSpace(string(must(t, "GET", ss.url(id), "").Body)) {
		t.Fatalf("redis session.%s = %s, %v", id, doc, err)
	}

	// Destroy: {"id","version","destroyed":true}; from then on 404 before any If-Match check.
	is(t, "destroy without If-Match", ss.post(id, "destroy", `{}`, "-"), 428, "if_match_required")
	is(t, "destroy at a stale version", ss.post(id, "destroy", `{}`, "5"), 412, "version_mismatch")
	r = ss.post(id, "destroy", ``, "6")
	if r.Code != 200 || strings.TrimSpace(string(r.Body)) != `{"id":"`+id+`","version":7,"destroyed":true}` {
		t.Fatalf("destroy: %s", r)
	}
	rows := ss.rows(id)
	for _, what := range []struct{ method, url, body, ifMatch string }{
		{"GET", ss.url(id), "", "-"},
		{"GET", ss.url(id) + "?revision=3", "", "-"},
		{"POST", ss.url(id, "update"), `{"namespace":"ns","attributes":{"b":"x"}}`, "-"},
		{"POST", ss.url(id, "update"), `{"namespace":"ns","attributes":{"b":"x"}}`, "7"},
		{"POST", ss.url(id, "update"), `{"namespace":"ns","attributes":{"b":"x"}}`, "2"},
		{"POST", ss.url(id, "clear"), `{"namespace":"ns"}`, "0"},
		{"POST", ss.url(id, "destroy"), `{}`, "7"},
	} {
		h := []string{}
		if what.ifMatch != "-" {
			h = []string{"If-Match", `"` + what.ifMatch + `"`}
		}
		is(t, what.method+" "+what.url+" If-Match "+what.ifMatch+" after destroy", must(t, what.method, what.url, what.body, h...), 404, "not_found")
	}
	if doc, _ := redisClient(t, ss.s).Get(context.Background(), "session."+id).Result(); doc != `{"id":"`+id+`","version":7,"destroyed":true}` {
		t.Fatalf("redis after destroy: %s", doc)
	}
	if n := ss.rows(id); n != rows+5 { // the five commands are recorded as refused
		t.Fatalf("%d event log rows, want %d", n, rows+5)
	}

	// Its events stay readable: the stream sends versions 1..7, then closes.
	ids := readStream(t, ss.url(id, "events"), 20*time.Second)
	if strings.Join(ids, ",") != "1,2,3,4,5,6,7" {
		t.Fatalf("events of a destroyed session: ids %v, want 1..7 then the end", ids)
	}
	if ids := readStream(t, ss.url(id, "events")+"?after=end", 20*time.Second); len(ids) != 0 {
		t.Fatalf("?after=end of a destroyed session: %v, want none and the end", ids)
	}
	if ids := readStream(t, ss.url(id, "events")+"?after=5", 20*time.Second); strings.Join(ids, ",") != "6,7" {
		t.Fatalf("?after=5 of a destroyed session: %v", ids)
	}

	// The history holds them; the writer's verify agrees with its state log.
	stacktest.Eventually(t, 20*time.Second, func() error {
		all, err := allHistory(ss.s)
		if err != nil {
			return err
		}
		n := 0
		for _, e := range all {
			if e.Stream == "session."+id {
				n++
			}
		}
		if n != 7 {
			return stacktest.Errorf("history holds %d events of session.%s, want 7", n, id)
		}
		return nil
	})
}

// readStream reads an SSE stream until the server closes it and returns its ids; it
// fails the test if the stream is still open after d.
func readStream(t *testing.T, url string, d time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var ids []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			ids = append(ids, v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("GET %s: the stream did not close within %s (ids so far %v): %v", url, d, ids, err)
	}
	return ids
}

// TestSessionStreamClosesOnDestroy: a subscriber following a live session gets the
// destroyed event, then the end of its stream.
func TestSessionStreamClosesOnDestroy(t *testing.T) {
	ss := startSessions(t)
	id := ksuid.New().String()
	is(t, "create", ss.post(id, "update", `{"namespace":"ns","attributes":{"a":"1"}}`, "0"), 200, "")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ss.url(id, "events"), nil)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		done <- sc.Err()
	}()
	next := func(want string) {
		t.Helper()
		for {
			select {
			case l := <-lines:
				if l == want {
					return
				}
			case err := <-done:
				t.Fatalf("the stream ended (%v) before %q", err, want)
			case <-ctx.Done():
				t.Fatalf("no %q in time", want)
			}
		}
	}
	next("id: 1")
	is(t, "update", ss.post(id, "update", `{"namespace":"ns","attributes":{"a":"2"}}`, "1"), 200, "")
	next("id: 2")
	is(t, "destroy", ss.post(id, "destroy", `{}`, "2"), 200, "")
	next("id: 3")
	next("event: destroyed")
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "id: ") {
				t.Fatalf("an event after the destroyed one: %s", l)
			}
		case err := <-done:
			if err != nil {
				t.Fatalf("the stream failed instead of closing: %v", err)
			}
			return
		case <-ctx.Done():
			t.Fatal("the stream did not close after the destroyed event")
		}
	}
}

// TestSessionConcurrentUpdates: 20 updates sent at once, all at the same revision:
// exactly one wins, the 19 others are 412 version_mismatch, and the session holds the
// winner's value at the next revision.
func TestSessionConcurrentUpdates(t *testing.T) {
	ss := startSessions(t)
	id := ksuid.New().String()
	is(t, "create", ss.post(id, "update", `{"namespace":"ns","attributes":{"who":"nobody"}}`, "0"), 200, "")
	const n = 20
	results := make([]response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = send("POST", ss.url(id, "update"), `{"namespace":"ns","attributes":{"who":"w`+strconv.Itoa(i)+`"}}`, "If-Match", `"1"`)
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, r := range results {
		switch {
		case errs[i] != nil:
			t.Fatal(errs[i])
		case r.Code == 200 && winner < 0:
			winner = i
		case r.Code == 200:
			t.Fatalf("two updates at revision 1 won: %d and %d", winner, i)
		case r.Code != 412 || r.errType() != "version_mismatch":
			t.Fatalf("update %d: %s, want 200 or 412 version_mismatch", i, r)
		}
	}
	if winner < 0 {
		t.Fatal("no update won")
	}
	g := must(t, "GET", ss.url(id), "")
	var doc struct {
		Version    int64 `json:"version"`
		Attributes map[string]map[string]sessiondom.Attribute
	}
	if err := json.Unmarshal(g.Body, &doc); err != nil || doc.Version != 2 || doc.Attributes["ns"]["who"].Value != "w"+strconv.Itoa(winner) {
		t.Fatalf("after the race: %s, want version 2 holding w%d", g, winner)
	}
}

// TestSessionCommandClient: the rules of C9 as a Go caller of pkg/command sees them:
// each refusal a typed failure, the same as over HTTP.
func TestSessionCommandClient(t *testing.T) {
	ss := startSessions(t)
	c := command.NewClient(stacktest.Connect(t, ss.s.NATS), "session", 0, 0)
	id := ksuid.New().String()
	at := func(v int64) *int64 { return &v }
	call := func(cmd, data string, expected *int64) (command.Reply, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.Send(ctx, command.Request{Kind: command.KindCommand, Entity: id, Command: cmd, Data: json.RawMessage(data), ExpectedVersion: expected})
	}
	refused := func(what string, err error, kind failure.Kind, typ string) {
		t.Helper()
		if !errors.Is(err, failure.New(kind, typ, "")) {
			t.Fatalf("%s: %v, want %s %s", what, err, kind, typ)
		}
	}
	_, err := call("update", `{"namespace":"ns","attributes":{"a":"1"}}`, nil)
	refused("update without a version", err, failure.PreconditionRequired, "if_match_required")
	rep, err := call("update", `{"namespace":"ns","attributes":{"a":"1"},"freeze":["a"]}`, at(0))
	if err != nil || rep.Version != 1 || string(rep.State) != `{"id":"`+id+`","version":1,"attributes":{"ns":{"a":{"value":"1","frozen":true}}}}` {
		t.Fatalf("update at 0: %s %v", rep.State, err)
	}
	_, err = call("update", `{"namespace":"ns","attributes":{"b":"1"}}`, at(0))
	refused("update at a stale version", err, failure.PreconditionFailed, "version_mismatch")
	_, err = call("update", `{"namespace":"ns","attributes":{"a":"2"}}`, at(1))
	refused("change a frozen attribute", err, failure.Rejected, "frozen_attribute")
	_, err = call("clear", `{"namespace":"ns"}`, at(1))
	refused("clear a namespace with a frozen value", err, failure.Rejected, "frozen_attribute")
	_, err = call("clear", `{"namespace":"_ns"}`, at(1))
	refused("a reserved namespace", err, failure.Invalid, "reserved_namespace")
	_, err = call("update", `{"namespace":"ns","attributes":{"b":"1"},"extra":1}`, at(1))
	refused("an unknown field", err, failure.Invalid, "unknown_field")
	rep, err = call("destroy", `{}`, at(1))
	if err != nil || rep.Version != 2 || string(rep.State) != `{"id":"`+id+`","version":2,"destroyed":true}` {
		t.Fatalf("destroy: %s %v", rep.State, err)
	}
	for _, v := range []*int64{nil, at(0), at(1), at(2)} {
		_, err = call("update", `{"namespace":"x","attributes":{"b":"1"}}`, v)
		refused("update after destroy", err, failure.NotFound, "not_found")
	}
}

// TestWalletRevision: ?revision=N serves every domain, the wallet too, also once Redis
// has lost the wallet's events (the writer restores them from its log).
func TestWalletRevision(t *testing.T) {
	s := stacktest.Start(t)
	id := newWallet()
	want := map[int64]int64{}
	for v, c := range []int64{5_00, 2_50, 10_00, 1} {
		want[int64(v+1)] = credit(t, s, id, c).balance()
	}
	check := func() {
		t.Helper()
		for v, bal := range want {
			r := must(t, "GET", walletURL(s, id, "balance")+"?revision="+strconv.FormatInt(v, 10), "")
			if r.Code != 200 || r.version() != v || r.balance() != bal {
				t.Fatalf("?revision=%d: %s, want balance %s", v, r, fmtCents(bal))
			}
		}
	}
	check()
	if err := redisClient(t, s).FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	check()
	is(t, "?revision past the version", must(t, "GET", walletURL(s, id)+"?revision=5", ""), 400, "invalid_revision")
	if r := must(t, "GET", walletURL(s, id), ""); r.Code != 200 || r.version() != 4 {
		t.Fatalf("GET without a revision: %s", r)
	}
}

// TestSessionThroughGateway: the local HTTP entry (pkg/gateway, as config/domains routes
// it) serves /session/ beside /wallet/: commands, their failures, and an ended session's
// event stream closing through it.
func TestSessionThroughGateway(t *testing.T) {
	ss := startSessions(t)
	routes, err := gateway.ParseRoutes("/wallet/=" + ss.s.URL + " /session/=" + ss.dom.URL + " /history=" + ss.s.HistoryURL)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Config{Routes: routes, Log: ss.s.Log})
	if err != nil {
		t.Fatal(err)
	}
	entry := httptest.NewServer(g)
	defer entry.Close()
	id := ksuid.New().String()
	u := entry.URL + "/session/" + id
	is(t, "update without If-Match", must(t, "POST", u+"/update", `{"namespace":"ns","attributes":{"a":"1"}}`), 428, "if_match_required")
	is(t, "update", must(t, "POST", u+"/update", `{"namespace":"ns","attributes":{"a":"1"}}`, "If-Match", `"0"`), 200, "")
	is(t, "stale", must(t, "POST", u+"/update", `{"namespace":"ns","attributes":{"a":"2"}}`, "If-Match", `"0"`), 412, "version_mismatch")
	is(t, "GET", must(t, "GET", u+"?revision=1", ""), 200, "")
	is(t, "destroy", must(t, "POST", u+"/destroy", `{}`, "If-Match", `"1"`), 200, "")
	is(t, "GET after destroy", must(t, "GET", u, ""), 404, "not_found")
	if ids := readStream(t, u+"/events", 20*time.Second); strings.Join(ids, ",") != "1,2" {
		t.Fatalf("events through the gateway: %v, want 1,2 then the end", ids)
	}
	is(t, "the wallet beside it", must(t, "GET", entry.URL+"/wallet/"+id, ""), 404, "not_found")
}
