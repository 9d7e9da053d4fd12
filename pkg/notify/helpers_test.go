package notify

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// parts are the real parts a test runs against: an embedded NATS server, a redis-server,
// a Notifier on its own connection, and a second connection for listeners.
type parts struct {
	n      *Notifier
	rdb    *goredis.Client
	listen *Notifier // the same parts, listening on another NATS connection
	nats   *server.Server
}

// conn is one more connection to the NATS server.
func (p parts) conn(t testing.TB) *nats.Conn { return stacktest.Connect(t, p.nats) }

func startParts(t testing.TB) parts {
	t.Helper()
	s := stacktest.NATS(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: stacktest.Redis(t), PoolSize: 16})
	t.Cleanup(func() { rdb.Close() })
	return parts{n: New(stacktest.Connect(t, s), rdb), rdb: rdb, listen: New(stacktest.Connect(t, s), rdb), nats: s}
}

// session is a session document as the session domain's read model holds it.
type session struct {
	id         string
	attributes map[string]map[string]string
	destroyed  bool
}

func newID() string { return ksuid.New().String() }

// doc returns s's read model document.
func (s session) doc() []byte {
	if s.destroyed {
		b, _ := json.Marshal(map[string]any{"id": s.id, "version": 3, "destroyed": true})
		return b
	}
	attrs := map[string]map[string]Attribute{}
	for ns, kv := range s.attributes {
		attrs[ns] = map[string]Attribute{}
		for k, v := range kv {
			attrs[ns][k] = Attribute{Value: v}
		}
	}
	b, _ := json.Marshal(map[string]any{"id": s.id, "version": 2, "attributes": attrs})
	return b
}

// writeSessions writes the documents of sessions into Redis (pipelined), with the events
// set of each beside it, as the read model has them (a key NotifyMany must not read).
func writeSessions(t testing.TB, rdb *goredis.Client, sessions []session) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(sessions); i += 1000 {
		p := rdb.Pipeline()
		for _, s := range sessions[i:min(i+1000, len(sessions))] {
			p.Set(ctx, "session."+s.id, s.doc(), 0)
			p.ZAdd(ctx, "session."+s.id+".events", goredis.Z{Score: 1, Member: `{"version":1}`})
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// inbox collects what one listener received.
type inbox struct {
	mu  sync.Mutex
	got []Notification
	ch  chan struct{} // a token per notification
}

func newInbox() *inbox { return &inbox{ch: make(chan struct{}, 1<<16)} }

func (b *inbox) handle(n Notification) {
	b.mu.Lock()
	b.got = append(b.got, n)
	b.mu.Unlock()
	b.ch <- struct{}{}
}

func (b *inbox) list() []Notification {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Notification(nil), b.got...)
}

// wait waits for the next notification of b.
func (b *inbox) wait(t testing.TB) {
	t.Helper()
	select {
	case <-b.ch:
	case <-time.After(20 * time.Second):
		t.Fatal("no notification within 20 s")
	}
}

// listen starts a listener on session id collecting into a new inbox.
func listen(t testing.TB, n *Notifier, id string) *inbox {
	t.Helper()
	b := newInbox()
	l, err := n.Listen(context.Background(), id, b.handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return b
}

// observer records every notification NATS carries, by notification id, then session.
type observer struct {
	mu     sync.Mutex
	byID   map[string]map[string]int
	marker chan string
}

// observe subscribes to every session's notifications on a connection of its own.
func observe(t testing.TB, nc *nats.Conn) *observer {
	t.Helper()
	o := &observer{byID: map[string]map[string]int{}, marker: make(chan string, 16)}
	_, err := nc.Subscribe("notification."+Domain+".*", func(m *nats.Msg) { // every session (ids are encoded: Subject("*") is one id)
		var n Notification
		if err := json.Unmarshal(m.Data, &n); err != nil {
			t.Errorf("not a notification: %s", m.Data)
			return
		}
		o.mu.Lock()
		if o.byID[n.ID] == nil {
			o.byID[n.ID] = map[string]int{}
		}
		o.byID[n.ID][n.Session]++
		o.mu.Unlock()
		if n.Type == "marker" {
			o.marker <- n.ID
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return o
}

// sync sends a marker through n and waits until the observer has it: everything n
// published before has reached the observer by then (NATS keeps one publisher's order
// towards one subscriber).
func (o *observer) sync(t testing.TB, n *Notifier) string {
	t.Helper()
	rec, err := n.Notify(context.Background(), newID(), "test", "marker", nil)
	if err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case id := <-o.marker:
			if id == rec.ID {
				return id
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the marker did not come back within 20 s")
		}
	}
}

// sessions returns the sessions notification id reached, with how many times each.
func (o *observer) sessions(id string) map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for s, c := range o.byID[id] {
		out[s] = c
	}
	return out
}

// ids returns the ids of every notification seen.
func (o *observer) ids() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for id := range o.byID {
		out = append(out, id)
	}
	return out
}

func errorIs(err, target error) bool { return err != nil && errors.Is(err, target) }
