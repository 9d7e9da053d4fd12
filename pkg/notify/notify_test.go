package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestNotify: a notification to one session reaches its listeners (all of them, each
// once, with what was sent), and no other session's.
func TestNotify(t *testing.T) {
	p := startParts(t)
	a, b := newID(), newID()
	writeSessions(t, p.rdb, []session{{id: a, attributes: map[string]map[string]string{"app": {"k": "v"}}}})
	a1, a2, bl := listen(t, p.listen, a), listen(t, p.n, a), listen(t, p.listen, b)
	before := time.Now().UTC()
	rec, err := p.n.Notify(context.Background(), a, "app", "greeting", map[string]any{"text": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Sessions != 1 || len(rec.ID) != 27 {
		t.Fatalf("receipt %+v", rec)
	}
	for _, in := range []*inbox{a1, a2} {
		in.wait(t)
		n := in.list()[0]
		if n.ID != rec.ID || n.Session != a || n.Namespace != "app" || n.Type != "greeting" ||
			string(n.Payload) != `{"text":"hello"}` || n.Constraint != nil || n.Time.Before(before.Add(-time.Second)) {
			t.Fatalf("received %+v", n)
		}
	}
	// b gets one of its own next: had it got a's, that would have come first.
	if _, err := p.n.Notify(context.Background(), b, "app", "second", nil); err != nil {
		t.Fatal(err)
	}
	bl.wait(t)
	if got := bl.list(); len(got) != 1 || got[0].Type != "second" || string(got[0].Payload) != "null" {
		t.Fatalf("b received %+v", got)
	}
	if _, err := p.n.Notify(context.Background(), a, "app", "third", json.RawMessage(`[1, 2]`)); err != nil {
		t.Fatal(err)
	}
	a1.wait(t)
	if got := a1.list(); len(got) != 2 || got[1].Type != "third" || string(got[1].Payload) != "[1,2]" {
		t.Fatalf("a received %+v", got)
	}
}

// TestNotifyRefused: bad input and a destroyed session are failures of their kinds and
// send nothing; a closed listener receives nothing more.
func TestNotifyRefused(t *testing.T) {
	p := startParts(t)
	o := observe(t, p.conn(t))
	gone := newID()
	writeSessions(t, p.rdb, []session{{id: gone, destroyed: true}})
	big := make([]byte, MaxPayload)
	for i := range big {
		big[i] = 'x'
	}
	id := newID()
	for name, tt := range map[string]struct {
		id, ns, typ string
		payload     any
		want        error
	}{
		"id not a KSUID":     {"nope", "app", "t", nil, ErrInvalidID},
		"namespace empty":    {id, "", "t", nil, ErrInvalidNamespace},
		"namespace reserved": {id, "_app", "t", nil, ErrInvalidNamespace},
		"namespace syntax":   {id, "a/b", "t", nil, ErrInvalidNamespace},
		"type empty":         {id, "app", "", nil, ErrInvalidType},
		"type with newline":  {id, "app", "a\nid: 5", nil, ErrInvalidType},
		"payload not JSON":   {id, "app", "t", json.RawMessage(`{`), ErrInvalidPayload},
		"payload too large":  {id, "app", "t", string(big), ErrPayloadTooLarge},
		"session destroyed":  {gone, "app", "t", nil, ErrNotFound},
	} {
		if _, err := p.n.Notify(context.Background(), tt.id, tt.ns, tt.typ, tt.payload); !errorIs(err, tt.want) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
	}
	if _, err := p.n.NotifyMany(context.Background(), "app", "t", Equal("", "x"), nil); !errorIs(err, ErrInvalidConstraint) {
		t.Errorf("NotifyMany with a bad constraint: %v", err)
	}
	if _, err := p.listen.Listen(context.Background(), "nope", func(Notification) {}); !errorIs(err, ErrInvalidID) {
		t.Errorf("Listen on a bad id: %v", err)
	}
	closed := newInbox()
	l, err := p.listen.Listen(context.Background(), id, closed.handle)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := p.n.Notify(context.Background(), id, "app", "after-close", nil); err != nil {
		t.Fatal(err)
	}
	marker := o.sync(t, p.n)
	if ids := o.ids(); len(ids) != 2 || len(closed.list()) != 0 {
		t.Fatalf("seen %v besides the marker %s; the closed listener got %v", ids, marker, closed.list())
	}
}

// TestListenContext: a listener stops when its context ends.
func TestListenContext(t *testing.T) {
	p := startParts(t)
	o := observe(t, p.conn(t))
	id := newID()
	in := newInbox()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.listen.Listen(ctx, id, in.handle); err != nil {
		t.Fatal(err)
	}
	if _, err := p.n.Notify(context.Background(), id, "app", "first", nil); err != nil {
		t.Fatal(err)
	}
	in.wait(t)
	subs := p.listen.nc.NumSubscriptions()
	cancel()
	// The listener unsubscribes in a goroutine of its own (context.AfterFunc): wait
	// until it has, then for the unsubscription to reach the server through the
	// listeners' connection.
	stacktest.Eventually(t, 20*time.Second, func() error {
		if n := p.listen.nc.NumSubscriptions(); n != subs-1 {
			return fmt.Errorf("the listeners' connection has %d subscriptions, want %d", n, subs-1)
		}
		return nil
	})
	if err := p.listen.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.n.Notify(context.Background(), id, "app", "second", nil); err != nil {
		t.Fatal(err)
	}
	o.sync(t, p.n)
	if got := in.list(); len(got) != 1 {
		t.Fatalf("received after the context ended: %+v", got)
	}
}

// TestNotifyManyOperators: NotifyMany reaches exactly the sessions each operator selects,
// each once, judged by their attributes in the notification's namespace; destroyed
// sessions never.
func TestNotifyManyOperators(t *testing.T) {
	p := startParts(t)
	o := observe(t, p.conn(t))
	s := map[string]session{}
	add := func(name string, attrs map[string]map[string]string, destroyed bool) {
		s[name] = session{id: newID(), attributes: attrs, destroyed: destroyed}
	}
	add("gold", map[string]map[string]string{"app": {"tier": "gold", "room": "1"}, "auth": {"role": "admin"}}, false)
	add("silver", map[string]map[string]string{"app": {"tier": "silver", "room": "1"}, "auth": {"role": "user"}}, false)
	add("blank", map[string]map[string]string{"app": {"tier": "", "room": "2"}}, false)
	add("other-ns", map[string]map[string]string{"web": {"tier": "gold"}}, false)
	add("none", nil, false)
	add("destroyed", nil, true)
	var all []session
	for _, x := range s {
		all = append(all, x)
	}
	writeSessions(t, p.rdb, all)
	tests := []struct {
		name string
		c    Constraint
		want []string
	}{
		{"none", None, []string{"gold", "silver", "blank", "other-ns", "none"}},
		{"equal", Equal("tier", "gold"), []string{"gold"}},
		{"not_equal", NotEqual("tier", "gold"), []string{"silver", "blank", "other-ns", "none"}},
		{"empty", Empty("tier"), []string{"blank", "other-ns", "none"}},
		{"not_empty", NotEmpty("tier"), []string{"gold", "silver"}},
		{"in", In("tier", "gold", "silver"), []string{"gold", "silver"}},
		{"not", Not(Equal("room", "1")), []string{"blank", "other-ns", "none"}},
		{"and", And(Equal("room", "1"), NotEqual("tier", "gold")), []string{"silver"}},
		{"or", Or(Equal("tier", "gold"), Equal("room", "2")), []string{"gold", "blank"}},
		{"within", Within("auth", Equal("role", "admin")), []string{"gold"}},
		{"within_and", And(Equal("room", "1"), Within("auth", NotEqual("role", "admin"))), []string{"silver"}},
		{"nobody", Equal("tier", "platinum"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := p.n.NotifyMany(context.Background(), "app", "op-"+tt.name, tt.c, map[string]int{"n": 1})
			if err != nil {
				t.Fatal(err)
			}
			o.sync(t, p.n)
			got := o.sessions(rec.ID)
			want := map[string]int{}
			for _, name := range tt.want {
				want[s[name].id] = 1
			}
			if rec.Sessions != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("receipt %d sessions, reached %v, want %v (%v)", rec.Sessions, got, want, tt.want)
			}
		})
	}
}
