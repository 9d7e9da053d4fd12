package queuedomain_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// One correlation id ties a payment's work together: every queue event of the payment,
// of the reply it became, and the wallet's credited event carry the enqueuer's id (else
// the message id); a refused payment parked in the error queue keeps it too. The
// history writer stores them all, and each step names the event that caused it.
func TestAPaymentKeepsItsCorrelationID(t *testing.T) {
	s := stacktest.Start(t)
	cfg, err := queue.ParseConfig([]byte(commandConfig))
	if err != nil {
		t.Fatal(err)
	}
	stacktest.QueueDomain(t, queuedomain.Config{Queues: cfg, NATSURL: s.NATS.ClientURL()})
	ctx := context.Background()

	c := queue.NewClient(connectURL(t, s.NATS.ClientURL()))
	stacktest.Eventually(t, 10*time.Second, func() error { _, err := c.Browse(ctx, "credits"); return err })
	wallet := event.NewID()
	pay := func(amount, correlation string) string {
		t.Helper()
		id, err := c.Enqueue(ctx, "credits", queue.Message{Properties: wallet, Payload: []byte(`{"amount": ` + amount + `}`)},
			queue.EnqueueOptions{CorrelationID: correlation})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	const x, refused = "payment-x", "payment-refused"
	pay("5", x)
	plain := pay("3", "") // no correlation id: the message id is
	pay("-1", refused)

	// Per correlation id, the events it must tie together, by stream and type.
	queueStream := queue.StreamOf("C")
	walletStream := event.Stream("wallet", wallet)
	paid := []string{queueStream + " " + queue.Enqueued, queueStream + " " + queue.DequeuedType, queueStream + " " + queue.Enqueued,
		queueStream + " " + queue.Committed, walletStream + " credited"}
	want := map[string][]string{
		x: paid, plain: paid,
		refused: {queueStream + " " + queue.Enqueued, queueStream + " " + queue.DequeuedType, queueStream + " " + queue.RolledBack,
			queueStream + " " + queue.MovedToError},
	}
	var es []history.Entry
	stacktest.Eventually(t, 20*time.Second, func() error {
		es, err = historyEvents(s.HistoryURL)
		if err != nil {
			return err
		}
		if len(es) != 14 {
			return stacktest.Errorf("history holds %d events, want 14", len(es))
		}
		return nil
	})
	got := map[string][]string{}
	byID := map[string]history.Entry{}
	for _, e := range es {
		got[e.CorrelationID] = append(got[e.CorrelationID], e.Stream+" "+e.Type)
		byID[e.ID] = e
	}
	for id, w := range want {
		g := got[id]
		sort.Strings(g) // the reply's enqueue and the source's commit are ordered; the wallet's event is published apart
		sort.Strings(w)
		if !slices.Equal(g, w) {
			t.Errorf("correlation id %s ties %v, want %v", id, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("correlation ids in the history: %v, want those of %v", got, want)
	}
	// Causation: a queue event names its message's previous event; the reply's enqueue
	// names the payment's dequeue; the wallet's event names its command.
	for _, e := range es {
		if e.Stream != queueStream || e.CausationID == "" {
			continue
		}
		cause, ok := byID[e.CausationID]
		if !ok || cause.CorrelationID != e.CorrelationID || cause.Stream != queueStream {
			t.Errorf("%s %s caused by %s: %+v", e.Type, e.ID, e.CausationID, cause)
		}
		if e.Type == queue.Enqueued && cause.Type != queue.DequeuedType {
			t.Errorf("the reply's enqueue was caused by a %s, want the payment's dequeue", cause.Type)
		}
	}
	for _, e := range es {
		if e.Stream == walletStream && (e.CausationID == "" || e.CausationID != e.CommandID) {
			t.Errorf("wallet event %s: causation %q, command %q", e.Type, e.CausationID, e.CommandID)
		}
	}
	if ms, err := c.Browse(ctx, "credits.error"); err != nil || len(ms) != 1 || ms[0].CorrelationID != refused {
		t.Fatalf("credits.error: %+v, %v", ms, err)
	}
}

// historyEvents reads the whole history from its HTTP API.
func historyEvents(url string) ([]history.Entry, error) {
	resp, err := http.Get(url + "/history?after=0&limit=1000")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var page struct {
		Events []history.Entry `json:"events"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, stacktest.Errorf("GET /history: %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, err
	}
	return page.Events, nil
}

// storedEvents reads every event of the EVENTS stream of nc's server.
func storedEvents(t *testing.T, ctx context.Context, nc *nats.Conn) []event.Envelope {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, event.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Envelope
	for uint64(len(out)) < info.State.Msgs {
		batch, err := cons.Fetch(int(info.State.Msgs)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var e event.Envelope
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		if n == 0 {
			t.Fatalf("EVENTS: read %d of %d events: %v", len(out), info.State.Msgs, batch.Error())
		}
	}
	return out
}
