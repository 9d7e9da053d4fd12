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
