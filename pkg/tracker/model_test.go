package tracker_test

import (
	"slices"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/tracker"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func apply(m *tracker.Model, events []event.Envelope, from int64) {
	for i, e := range events {
		m.Apply(history.Entry{Position: from + int64(i), Envelope: e})
	}
}

func item(t *testing.T, m *tracker.Model, id string) tracker.Item {
	t.Helper()
	it, ok := m.Item(id)
	if !ok {
		t.Fatalf("no item %s", id)
	}
	return it
}

func wheres(it tracker.Item) []string {
	var out []string
	for _, s := range it.Steps {
		out = append(out, s.Domain+"/"+s.Where+" "+s.Event)
	}
	return out
}

// The flows end where they should, with or without correlation ids on queue events
// (histories written before queue events carried them are linked by message ids and the
// forwards' deduplication keys).
func TestModelFlows(t *testing.T) {
	for _, corr := range []bool{true, false} {
		t.Run(map[bool]string{true: "correlation ids", false: "old format: no correlation ids"}[corr], func(t *testing.T) {
			f := newFlows(t0, time.Millisecond)
			f.corr = corr
			pay, failed, cas := f.payment(), f.failedPayment(), f.casual()
			f.corr = true
			cmd := f.command()
			f.corr = corr
			wait := f.waiting()
			m := tracker.NewModel(time.Time{})
			apply(m, f.events, 1)

			tests := []struct {
				id, status, state, domain, where string
				retries                          int
			}{
				{pay, tracker.Completed, tracker.StateCommitted, "wallet", "payments", 0},
				{failed, tracker.Completed, tracker.StateParked, "wallet", "payments.error", 1},
				{cas, tracker.Completed, tracker.StateParked, "A", "a1.error", 1},
				{cmd, tracker.Completed, tracker.StateCommitted, "wallet", "wallet.w" + cmd, 0},
				{wait, tracker.InFlight, tracker.StateQueued, "wallet", "payments", 0},
			}
			for _, tc := range tests {
				it := item(t, m, tc.id)
				if it.Status != tc.status || it.State != tc.state || it.Domain != tc.domain || it.Where != tc.where || it.Retries != tc.retries {
					t.Errorf("%s: %s %s in %s/%s retries %d; want %s %s in %s/%s retries %d (steps %v)", tc.id, it.Status, it.State,
						it.Domain, it.Where, it.Retries, tc.status, tc.state, tc.domain, tc.where, tc.retries, wheres(it))
				}
			}
			if got := wheres(item(t, m, cas)); len(got) != 10 || got[0] != "B/b1 enqueued" || got[2] != "B/b2 enqueued" || got[5] != "A/a1 enqueued" || got[9] != "A/a1.error moved_to_error" {
				t.Errorf("casual's steps: %v", got)
			}
			if corr {
				if got := wheres(item(t, m, pay)); len(got) != 4 || got[2] != "wallet/wallet.w"+pay+" credited" {
					t.Errorf("the payment's steps miss its credit: %v", got)
				}
			}
			c := m.Counters()
			completed := 4
			if !corr {
				completed = 5 // the payment's credit carried no correlation id: an item of its own
			}
			if c.InFlight != 1 || c.Completed != completed {
				t.Errorf("counters: %d in flight, %d completed; want 1, %d", c.InFlight, c.Completed, completed)
			}
			for _, q := range c.Queues {
				want := map[string]int64{"payments": 1, "payments.error": 1, "a1.error": 1}[q.Queue]
				if q.Count != want {
					t.Errorf("queue %s holds %d, want %d", q.Queue, q.Count, want)
				}
			}
			items, total := m.Items(tracker.Filter{Status: tracker.Completed, Queue: "b2", Limit: 10})
			if total != 1 || items[0].ID != cas {
				t.Errorf("filter by queue b2: %d items %v", total, items)
			}
			items, total = m.Items(tracker.Filter{Status: tracker.Completed, Search: "w" + cmd, Limit: 10})
			if total != 1 || items[0].ID != cmd {
				t.Errorf("search by entity id: %d items %v", total, items)
			}
			if _, total = m.Items(tracker.Filter{Status: tracker.Completed, Domain: "A", Limit: 10}); total != 1 {
				t.Errorf("filter by domain A: %d items, want 1", total)
			}
		})
	}
}

// A parked item restored to its queue is in flight again, and completes again.
func TestModelRestore(t *testing.T) {
	f := newFlows(t0, time.Millisecond)
	m := f.failedPayment()
	f.op("wallet", "restored", "payments.error", m, m, qchange{To: "payments"})
	restored := len(f.events)
	f.op("wallet", "dequeued", "payments", m, m, qchange{Lease: "l"})
	f.op("wallet", "committed", "payments", m, m, qchange{})
	model := tracker.NewModel(time.Time{})
	apply(model, f.events[:restored], 1)
	if it := item(t, model, m); it.Status != tracker.InFlight || it.State != tracker.StateQueued || it.Where != "payments" {
		t.Fatalf("restored: %s %s in %s", it.Status, it.State, it.Where)
	}
	apply(model, f.events[restored:], int64(restored)+1)
	if it := item(t, model, m); it.Status != tracker.Completed || it.State != tracker.StateCommitted {
		t.Fatalf("after the retry: %s %s", it.Status, it.State)
	}
	if c := model.Counters(); c.InFlight != 0 || c.Completed != 1 {
		t.Fatalf("counters: %+v", c)
	}
}

// The window: items complete and age out (SetCutoff), those completed before the
// cutoff are never kept, and what is in flight stays whatever its age.
func TestModelWindow(t *testing.T) {
	f := newFlows(t0, time.Second)
	f.mixed(100) // 100 rounds, 10 waiting payments, over ~30 minutes
	events := f.events
	end := f.t

	all := tracker.NewModel(time.Time{})
	apply(all, events, 1)
	if all.Len() != 410 {
		t.Fatalf("without a window the model holds %d items, want 410", all.Len())
	}

	// Moving the cutoff past everything: only the 10 waiting payments stay.
	all.SetCutoff(end.Add(time.Second))
	if all.Len() != 10 {
		t.Fatalf("after the cutoff passed every completion the model holds %d items, want 10", all.Len())
	}
	if c := all.Counters(); c.InFlight != 10 || c.Completed != 0 {
		t.Fatalf("counters after the cutoff: %d in flight, %d completed", c.InFlight, c.Completed)
	}

	// Half-way: a replay with that cutoff keeps what completed after it, like a model
	// whose cutoff moved there after the same entries.
	mid := t0.Add(end.Sub(t0) / 2)
	replayed := tracker.NewModel(mid)
	apply(replayed, events, 1)
	moved := tracker.NewModel(time.Time{})
	apply(moved, events, 1)
	moved.SetCutoff(mid)
	if replayed.Len() >= 410 || replayed.Len() <= 10 || replayed.Len() != moved.Len() {
		t.Fatalf("replay with a window: %d items; cutoff moved after: %d (all: 410)", replayed.Len(), moved.Len())
	}
	got, _ := replayed.Items(tracker.Filter{Status: tracker.Completed, Limit: 1000})
	for _, it := range got {
		if it.Completed.Before(mid) {
			t.Fatalf("item %s completed at %v, before the window's start %v", it.ID, it.Completed, mid)
		}
	}
	want, _ := moved.Items(tracker.Filter{Status: tracker.Completed, Limit: 1000})
	if len(got) != len(want) {
		t.Fatalf("completed: replay %d, moved %d", len(got), len(want))
	}
}

// A lock's grants are items of their own: from the acquire (or its wait) through the
// grant and renewals to the release, the expiry or the wait's end; in flight while held
// or waiting, each where its lock is, with its holder and token.
func TestModelLocks(t *testing.T) {
	f := newFlows(t0, time.Millisecond)
	ids := f.locks("printer")
	m := tracker.NewModel(time.Time{})
	apply(m, f.events, 1)
	tests := []struct {
		name, status, holder string
		token                int64
		events               int
	}{
		{"released", tracker.Completed, "alice", 1, 3},
		{"expired", tracker.Completed, "bob", 2, 3},
		{"timed_out", tracker.Completed, "carol", 0, 2},
		{"cancelled", tracker.Completed, "dave", 0, 2},
		{"held", tracker.InFlight, "erin", 3, 2},
		{"waiting", tracker.InFlight, "frank", 0, 1},
	}
	for _, tc := range tests {
		it := item(t, m, ids[tc.name])
		if it.Kind != tracker.KindLock || it.Status != tc.status || it.State != tc.name || it.Domain != "lock" ||
			it.Where != "lock.printer" || it.Holder != tc.holder || it.Token != tc.token || it.Events != tc.events {
			t.Errorf("%s: %+v; want %s %s by %s token %d, %d events", ids[tc.name], it, tc.status, tc.name, tc.holder, tc.token, tc.events)
		}
	}
	if got := wheres(item(t, m, ids["expired"])); len(got) != 3 || got[0] != "lock/lock.printer waiting" || got[1] != "lock/lock.printer acquired" || got[2] != "lock/lock.printer expired" {
		t.Errorf("the waiter's grant: %v", got)
	}
	c := m.Counters()
	if c.InFlight != 2 || c.Completed != 4 {
		t.Errorf("counters: %d in flight, %d completed; want 2, 4", c.InFlight, c.Completed)
	}
	if items, total := m.Items(tracker.Filter{Status: tracker.Completed, Search: "lock.printer#2", Limit: 10}); total != 1 || items[0].ID != ids["expired"] {
		t.Errorf("search by grant (lock.printer#2): %d items %v", total, items)
	}
	if _, total := m.Items(tracker.Filter{Status: tracker.InFlight, Search: "printer", Limit: 10}); total != 2 {
		t.Errorf("search by lock name: %d in flight, want 2", total)
	}
	// A lock name holding a '.' is encoded in its stream (lock.print%2Eer): found by its
	// name as the user writes it, alone or after "lock.", as by its stream.
	dotted := newFlows(t0, time.Millisecond)
	dottedIDs := dotted.locks("print.er")
	md := tracker.NewModel(time.Time{})
	apply(md, dotted.events, 1)
	for _, search := range []string{"print.er", "lock.print.er", "lock.print%2Eer", "print%2Eer", "lock.print.er#2"} {
		items, total := md.Items(tracker.Filter{Status: tracker.Completed, Search: search, Limit: 10})
		if total == 0 || !slices.ContainsFunc(items, func(it tracker.Item) bool { return it.ID == dottedIDs["expired"] }) {
			t.Errorf("search %q: %d items %v, want the grant %s among them", search, total, items, dottedIDs["expired"])
		}
	}
	if _, total := md.Items(tracker.Filter{Status: tracker.Completed, Search: "print", Limit: 10}); total != 0 {
		t.Errorf("search print: %d items of lock print.er", total)
	}
	if _, total := m.Items(tracker.Filter{Status: tracker.InFlight, Domain: "lock", Limit: 10}); total != 2 {
		t.Errorf("filter by domain lock: %d in flight, want 2", total)
	}
	if _, total := m.Items(tracker.Filter{Status: tracker.InFlight, Domain: "wallet", Limit: 10}); total != 0 {
		t.Errorf("filter by domain wallet: %d lock items", total)
	}
	// The window: the completed grants age out, the held one and the waiter stay.
	m.SetCutoff(f.t.Add(time.Second))
	if m.Len() != 2 {
		t.Errorf("after the cutoff passed every completion: %d items, want 2", m.Len())
	}
	f.t = f.t.Add(2 * time.Second)               // within the window
	f.lock("printer").end("released", "erin", 3) // token 3 is erin's
	apply(m, f.events[len(f.events)-1:], int64(len(f.events)))
	if it := item(t, m, ids["held"]); it.Status != tracker.Completed || it.State != tracker.StateReleased {
		t.Errorf("erin's grant after its release: %s %s", it.Status, it.State)
	}
}

// Across domains the history is in arrival order: casual's flow with domain A's events
// stored before domain B's (B's copier late) still ends as one item parked in a1.error.
func TestModelDomainsOutOfOrder(t *testing.T) {
	f := newFlows(t0, time.Millisecond)
	cas := f.casual()
	var a, b []event.Envelope
	for _, e := range f.events {
		if e.Stream == "queue.A" {
			a = append(a, e)
		} else {
			b = append(b, e)
		}
	}
	m := tracker.NewModel(time.Time{})
	apply(m, append(a, b...), 1)
	it := item(t, m, cas)
	if it.Status != tracker.Completed || it.State != tracker.StateParked || it.Domain != "A" || it.Where != "a1.error" || it.Events != 10 {
		t.Errorf("%s %s in %s/%s, %d events; want completed parked in A/a1.error, 10 events (steps %v)", it.Status, it.State, it.Domain, it.Where, it.Events, wheres(it))
	}
	if c := m.Counters(); c.InFlight != 0 || c.Completed != 1 {
		t.Errorf("counters: %d in flight, %d completed; want 0, 1", c.InFlight, c.Completed)
	}
}
