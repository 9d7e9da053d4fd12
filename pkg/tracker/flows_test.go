package tracker_test

import (
	"encoding/json"
	"fmt"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// flows writes histories shaped as pkg/queue, pkg/forward and the writers write them:
// the tests' and benchmarks' recorded histories.
type flows struct {
	t       time.Time
	step    time.Duration
	n       int
	events  []event.Envelope
	version map[string]int64
	corr    bool // queue events carry the correlation id (else: linked by message id and dedup key)
}

func newFlows(t0 time.Time, step time.Duration) *flows {
	return &flows{t: t0, step: step, version: map[string]int64{}, corr: true}
}

func (f *flows) id(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%07d", prefix, f.n)
}

func (f *flows) add(stream, typ, corr string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	f.version[stream]++
	f.t = f.t.Add(f.step)
	e := event.Envelope{ID: f.id("e"), Stream: stream, Version: f.version[stream], Type: typ, Data: b,
		CommandID: f.id("c"), Time: f.t}
	if f.corr {
		e.CorrelationID = corr
	}
	f.events = append(f.events, e)
}

type qmsg struct {
	ID          string    `json:"id"`
	Payload     []byte    `json:"payload"`
	Properties  string    `json:"properties,omitempty"`
	Available   time.Time `json:"available"`
	Redelivered int       `json:"redelivered"`
	Time        time.Time `json:"time"`
	Dedup       string    `json:"dedup,omitempty"`
}

type qchange struct {
	Queue       string    `json:"queue"`
	Message     *qmsg     `json:"message,omitempty"`
	ID          string    `json:"id,omitempty"`
	Lease       string    `json:"lease,omitempty"`
	Redelivered int       `json:"redelivered,omitempty"`
	To          string    `json:"to,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Time        time.Time `json:"time"`
}

func (f *flows) enqueue(domain, q, corr, dedup string) string {
	id := f.id("m")
	if corr == "" {
		corr = id
	}
	f.add("queue."+domain, "enqueued", corr, qchange{Queue: q, Message: &qmsg{ID: id, Payload: []byte(`{"amount":5}`),
		Properties: "wallet1", Available: f.t, Time: f.t, Dedup: dedup}, Time: f.t})
	return id
}

func (f *flows) op(domain, typ, q, id, corr string, c qchange) {
	c.Queue, c.ID, c.Time = q, id, f.t
	f.add("queue."+domain, typ, corr, c)
}

// payment: a payment credited to a wallet (payments -> wallet.credit, committed).
func (f *flows) payment() string {
	m := f.enqueue("wallet", "payments", "", "")
	f.op("wallet", "dequeued", "payments", m, m, qchange{Lease: "l"})
	f.add("wallet.w"+m, "credited", m, map[string]string{"amount": "5.00"})
	f.op("wallet", "committed", "payments", m, m, qchange{})
	return m
}

// failedPayment: refused, rolled back, parked in payments.error.
func (f *flows) failedPayment() string {
	m := f.enqueue("wallet", "payments", "", "")
	f.op("wallet", "dequeued", "payments", m, m, qchange{Lease: "l"})
	f.op("wallet", "rolled_back", "payments", m, m, qchange{Redelivered: 1, Reason: "rollback"})
	f.op("wallet", "moved_to_error", "payments", m, m, qchange{To: "payments.error"})
	return m
}

// casual: b1 -> echo -> b2 -> a1 -> rollback -> a1.error, across domains A and B.
func (f *flows) casual() string {
	b1 := f.enqueue("B", "b1", "", "")
	f.op("B", "dequeued", "b1", b1, b1, qchange{Lease: "l"})
	b2 := f.enqueue("B", "b2", b1, "b1/"+b1)
	f.op("B", "committed", "b1", b1, b1, qchange{})
	f.op("B", "dequeued", "b2", b2, b1, qchange{Lease: "l"})
	a1 := f.enqueue("A", "a1", b1, "b2/"+b2)
	f.op("B", "committed", "b2", b2, b1, qchange{})
	f.op("A", "dequeued", "a1", a1, b1, qchange{Lease: "l"})
	f.op("A", "rolled_back", "a1", a1, b1, qchange{Redelivered: 1, Reason: "rollback"})
	f.op("A", "moved_to_error", "a1", a1, b1, qchange{To: "a1.error"})
	return b1
}

// command: a credit over HTTP (its own item, complete at once).
func (f *flows) command() string {
	c := f.id("r")
	f.add("wallet.w"+c, "credited", c, map[string]string{"amount": "1.00"})
	return c
}

// waiting: a payment still in its queue.
func (f *flows) waiting() string { return f.enqueue("wallet", "payments", "", "") }

// mixed writes n rounds of every flow, and a few still in flight.
func (f *flows) mixed(n int) {
	for i := range n {
		f.payment()
		f.failedPayment()
		f.casual()
		f.command()
		if i%10 == 0 {
			f.waiting()
		}
	}
}

// lockEvent is a lock event's data as domains/lock writes it.
type lockEvent struct {
	Holder  string     `json:"holder"`
	Token   int64      `json:"token,omitempty"`
	TTL     string     `json:"ttl,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
	Wait    int64      `json:"wait,omitempty"`
	Until   *time.Time `json:"until,omitempty"`
	Reason  string     `json:"reason,omitempty"`
}

// lockFlow writes the events of one lock, as domains/lock decides them.
type lockFlow struct {
	f      *flows
	stream string
	token  int64
}

// lock is the lock named name; its stream is named as the lock's writer names it
// (event.Stream: the name encoded).
func (f *flows) lock(name string) *lockFlow {
	return &lockFlow{f: f, stream: event.Stream("lock", name)}
}

// grant grants the lock to holder, at once (wait 0) or to its wait; it returns the token.
func (l *lockFlow) grant(holder string, wait int64) int64 {
	l.token++
	exp := l.f.t.Add(time.Minute)
	l.f.add(l.stream, "acquired", l.f.id("k"), lockEvent{Holder: holder, Token: l.token, TTL: "1m0s", Expires: &exp, Wait: wait})
	return l.token
}

// wait queues holder's acquire; it returns the wait (its event's version).
func (l *lockFlow) wait(holder string) int64 {
	until := l.f.t.Add(20 * time.Second)
	l.f.add(l.stream, "waiting", l.f.id("k"), lockEvent{Holder: holder, TTL: "1m0s", Until: &until, Wait: l.f.version[l.stream] + 1})
	return l.f.version[l.stream]
}

func (l *lockFlow) renew(holder string, token int64) {
	exp := l.f.t.Add(time.Minute)
	l.f.add(l.stream, "renewed", l.f.id("k"), lockEvent{Holder: holder, Token: token, TTL: "1m0s", Expires: &exp})
}

// end ends token's lease: "released" or "expired".
func (l *lockFlow) end(typ, holder string, token int64) {
	l.f.add(l.stream, typ, l.f.id("k"), lockEvent{Holder: holder, Token: token})
}

// endWait ends a wait never granted: reason "timeout" or "cancelled".
func (l *lockFlow) endWait(holder string, wait int64, reason string) {
	l.f.add(l.stream, "wait_ended", l.f.id("k"), lockEvent{Holder: holder, Wait: wait, Reason: reason})
}

// locks writes, on lock <name>: a grant renewed and released, while a waiter waits its
// turn, is granted and its lease expires; a wait that times out and one cancelled; and,
// still in flight, a grant held and a waiter waiting. It returns the item ids (the lock
// items' ids: "<stream>@<version>") by what they are.
func (f *flows) locks(name string) map[string]string {
	l := f.lock(name)
	id := func(version int64) string { return fmt.Sprintf("%s@%d", l.stream, version) }
	ids := map[string]string{}
	t := l.grant("alice", 0)
	ids["released"] = id(f.version[l.stream])
	w := l.wait("bob")
	ids["expired"] = id(w)
	l.renew("alice", t)
	l.end("released", "alice", t)
	t = l.grant("bob", w)
	w = l.wait("carol")
	ids["timed_out"] = id(w)
	l.endWait("carol", w, "timeout")
	w = l.wait("dave")
	ids["cancelled"] = id(w)
	l.endWait("dave", w, "cancelled")
	l.end("expired", "bob", t)
	t = l.grant("erin", 0)
	ids["held"] = id(f.version[l.stream])
	l.renew("erin", t)
	w = l.wait("frank")
	ids["waiting"] = id(w)
	return ids
}
