package notify

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fleet is many sessions, each with one listener, recording what each received.
type fleet struct {
	mu   sync.Mutex
	got  map[string][]Notification
	each chan struct{} // a token per notification received by anyone
}

// listenAll starts a listener on every session of ids on n's connection.
func listenAll(t testing.TB, n *Notifier, ids []string) *fleet {
	t.Helper()
	f := &fleet{got: map[string][]Notification{}, each: make(chan struct{}, 4*len(ids))}
	for _, id := range ids {
		l, err := n.Listen(context.Background(), id, func(nt Notification) {
			f.mu.Lock()
			f.got[id] = append(f.got[id], nt)
			f.mu.Unlock()
			f.each <- struct{}{}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
	}
	return f
}

// await waits until the fleet received n notifications more.
func (f *fleet) await(t testing.TB, n int) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for i := range n {
		select {
		case <-f.each:
		case <-timeout:
			t.Fatalf("%d of %d notifications within 60 s", i, n)
		}
	}
}

// fleetSessions writes total live sessions, the first gold of which have app.tier=gold,
// and near misses beside them (gold in another namespace, "gold " in app, destroyed).
func fleetSessions(t testing.TB, p parts, total, gold int) (all, golden []string) {
	t.Helper()
	var docs []session
	for i := range total {
		id := newID()
		attrs := map[string]map[string]string{"app": {"tier": "silver", "n": strconv.Itoa(i)}}
		switch {
		case i < gold:
			attrs["app"]["tier"] = "gold"
			golden = append(golden, id)
		case i < gold+total/200:
			attrs["web"] = map[string]string{"tier": "gold"}
		case i < gold+total/100:
			attrs["app"]["tier"] = "gold "
		}
		docs = append(docs, session{id: id, attributes: attrs})
		all = append(all, id)
	}
	for range total / 100 {
		docs = append(docs, session{id: newID(), destroyed: true})
	}
	writeSessions(t, p.rdb, docs)
	return all, golden
}

// TestNotifyMany10000: over 10,000 sessions, each listened to, a constraint matching 1%
// reaches exactly those 100, once each, and no other listener.
func TestNotifyMany10000(t *testing.T) {
	p := startParts(t)
	all, golden := fleetSessions(t, p, 10000, 100)
	f := listenAll(t, p.listen, all)
	rec, err := p.n.NotifyMany(context.Background(), "app", "offer", Equal("tier", "gold"), map[string]string{"discount": "10%"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Sessions != 100 {
		t.Fatalf("sent to %d sessions, want 100", rec.Sessions)
	}
	f.await(t, 100)
	// Then one to everybody: once each listener has it, it has what was sent before it.
	mark, err := p.n.NotifyMany(context.Background(), "app", "marker", None, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mark.Sessions != 10000 {
		t.Fatalf("the marker went to %d sessions, want 10000 (the destroyed ones skipped)", mark.Sessions)
	}
	f.await(t, 10000)
	isGold := map[string]bool{}
	for _, id := range golden {
		isGold[id] = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range all {
		got := f.got[id]
		want := 1
		if isGold[id] {
			want = 2
		}
		if len(got) != want || got[len(got)-1].ID != mark.ID {
			t.Fatalf("session %s (gold %v) received %d: %+v", id, isGold[id], len(got), got)
		}
		if want == 2 && (got[0].ID != rec.ID || got[0].Session != id || string(got[0].Payload) != `{"discount":"10%"}` ||
			got[0].Constraint == nil || !got[0].Constraint.Match(Attributes{"app": {"tier": {Value: "gold"}}}, "app")) {
			t.Fatalf("session %s received %+v", id, got[0])
		}
	}
	select {
	case <-f.each:
		t.Fatal("a notification more than expected")
	default:
	}
}
