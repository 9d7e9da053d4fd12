package writer

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// ledger builds an event store by hand, the way the writer fills it: each command is
// decided by the wallet domain, its row appended with its events, and the entity's
// document appended to the state log.
type ledger struct {
	t       testing.TB
	store   *sqlite.Store
	states  map[string]wallet.State
	version map[string]int64
}

func newLedger(t testing.TB) *ledger {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &ledger{t: t, store: s, states: map[string]wallet.State{}, version: map[string]int64{}}
}

// do decides command on entity id and appends the row and the new state (rejections:
// the row only).
func (l *ledger) do(id, command string, amount string) {
	l.t.Helper()
	row, st := l.decide(id, command, amount)
	var states []sqlite.State
	if st != nil {
		states = append(states, *st)
	}
	if err := l.store.Append(context.Background(), []sqlite.Row{row}, states, 0); err != nil {
		l.t.Fatalf("Append: %v", err)
	}
}

// decide decides command on entity id and returns the row and state to append, for
// tests to tamper with before appending them with appendRaw.
func (l *ledger) decide(id, command, amount string) (sqlite.Row, *sqlite.State) {
	l.t.Helper()
	d := wallet.Domain{}
	stream := event.Stream("wallet", id)
	now := time.Now()
	cmd, err := d.ParseCommand(command, []byte(`{"amount":`+amount+`}`))
	if err != nil {
		l.t.Fatal(err)
	}
	row := sqlite.Row{Stream: stream, CommandID: event.NewID(), Command: cmd.Type, Data: cmd.Data, Result: json.RawMessage(`{}`), Time: now}
	evs, err := d.Decide(l.states[stream], l.version[stream], cmd)
	if err != nil {
		row.Outcome, row.Events = sqlite.Rejected, json.RawMessage(`[]`)
		return row, nil
	}
	var envs []event.Envelope
	for _, e := range evs {
		s, err := d.Evolve(l.states[stream], e)
		if err != nil {
			l.t.Fatal(err)
		}
		l.states[stream] = s
		l.version[stream]++
		envs = append(envs, event.Envelope{ID: event.NewID(), Stream: stream, Version: l.version[stream], Type: e.Type, Data: e.Data, CommandID: row.CommandID, Time: now})
	}
	row.Version, row.Outcome = l.version[stream], sqlite.Accepted
	row.Events, _ = json.Marshal(envs)
	doc, err := document(id, l.version[stream], l.states[stream])
	if err != nil {
		l.t.Fatal(err)
	}
	return row, &sqlite.State{Stream: stream, Version: l.version[stream], State: doc, Time: now}
}

// appendRaw appends rows and states as given.
func (l *ledger) appendRaw(rows []sqlite.Row, states []sqlite.State) {
	l.t.Helper()
	if err := l.store.Append(context.Background(), rows, states, 0); err != nil {
		l.t.Fatalf("Append: %v", err)
	}
}

// consistent fills two wallets with credits, debits and a rejection.
func (l *ledger) consistent() {
	l.do("a", "credit", `"10"`)
	l.do("a", "debit", `"20"`) // rejected: insufficient funds
	l.do("b", "credit", `"1.50"`)
	l.do("a", "debit", `"2.25"`)
	l.do("b", "credit", `"0.50"`)
	l.do("a", "credit", `"0.01"`)
}

// eachWay runs test with the newest states read in one query and looked up one stream
// at a time, and with the log read in chunks of one seq, two, and of the default size.
func eachWay(t *testing.T, test func(t *testing.T)) {
	for _, lookup := range []int64{1 << 40, 0} {
		for _, chunk := range []int64{1, 2, replayChunk} {
			name := fmt.Sprintf("query/chunk=%d", chunk)
			if lookup == 0 {
				name = fmt.Sprintf("lookup/chunk=%d", chunk)
			}
			t.Run(name, func(t *testing.T) {
				defer func(l, c int64) { statesByLookup, replayChunk = l, c }(statesByLookup, replayChunk)
				statesByLookup, replayChunk = lookup, chunk
				test(t)
			})
		}
	}
}

func TestVerifyConsistentStore(t *testing.T) {
	eachWay(t, func(t *testing.T) {
		l := newLedger(t)
		l.consistent()
		rep, err := Verify[wallet.State](context.Background(), l.store, wallet.Domain{})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !rep.OK() || rep.Streams != 2 || rep.Events != 5 {
			t.Fatalf("report %+v; want OK, 2 streams, 5 events", rep)
		}
	})
}

// TestVerifyManyStreams folds streams whose rows interleave across chunks and readers.
func TestVerifyManyStreams(t *testing.T) {
	eachWay(t, func(t *testing.T) {
		l := newLedger(t)
		for i := range 60 {
			l.do(fmt.Sprintf("w%d", i%7), "credit", `"1.25"`)
		}
		rep, err := Verify[wallet.State](context.Background(), l.store, wallet.Domain{})
		if err != nil || !rep.OK() || rep.Streams != 7 || rep.Events != 60 {
			t.Fatalf("Verify = %+v, %v; want OK, 7 streams, 60 events", rep, err)
		}
	})
}

func TestVerifyEmptyStore(t *testing.T) {
	l := newLedger(t)
	rep, err := Verify[wallet.State](context.Background(), l.store, wallet.Domain{})
	if err != nil || !rep.OK() || rep.Streams != 0 || rep.Events != 0 {
		t.Fatalf("Verify on empty store = %+v, %v", rep, err)
	}
}

func TestVerifyReportsMismatches(t *testing.T) {
	doc := func(id string, version int64, balance wallet.Amount) json.RawMessage {
		b, _ := document(id, version, wallet.State{Balance: balance})
		return b
	}
	tests := []struct {
		name   string
		tamper func(l *ledger)
		want   string // a substring of a mismatch
	}{
		{"wrong balance in the state log", func(l *ledger) {
			row, _ := l.decide("a", "credit", `"1"`)
			l.appendRaw([]sqlite.Row{row}, []sqlite.State{{Stream: "wallet.a", Version: row.Version, State: doc("a", row.Version, 99999), Time: time.Now()}})
		}, "wallet.a: replay gives version 4"},
		{"state log behind the events", func(l *ledger) {
			row, _ := l.decide("b", "credit", `"1"`)
			l.appendRaw([]sqlite.Row{row}, nil)
		}, "wallet.b: the state log has no state for version 3, its newest"},
		{"events without state", func(l *ledger) {
			row, _ := l.decide("c", "credit", `"1"`)
			l.appendRaw([]sqlite.Row{row}, nil)
		}, "wallet.c: the state log has no state for version 1, its newest"},
		{"version gap", func(l *ledger) {
			row, st := l.decide("b", "credit", `"1"`)
			row.Events = json.RawMessage(strings.Replace(string(row.Events), `"version":3`, `"version":4`, 1))
			row.Version, st.Version = 4, 4
			st.State = doc("b", 4, 300)
			l.appendRaw([]sqlite.Row{row}, []sqlite.State{*st})
		}, "wallet.b: event version 4 follows 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eachWay(t, func(t *testing.T) {
				l := newLedger(t)
				l.consistent()
				tc.tamper(l)
				rep, err := Verify[wallet.State](context.Background(), l.store, wallet.Domain{})
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if rep.OK() {
					t.Fatalf("Verify reports OK on a tampered store: %+v", rep)
				}
				found := false
				for _, m := range rep.Mismatches {
					found = found || strings.Contains(m, tc.want)
				}
				if !found {
					t.Fatalf("mismatches %q; want one containing %q", rep.Mismatches, tc.want)
				}
			})
		})
	}
}

func TestVerifyFailsOnUnreadableEvents(t *testing.T) {
	tests := []struct {
		name   string
		events string
		want   string
	}{
		{"not JSON", `[{`, "wallet.z v1"},
		{"no event id", `[{"version":1,"type":"credited","data":{"amount":"1.00"}}]`, "no event id"},
		{"unknown event type", `[{"id":"e","version":1,"type":"refunded","data":{"amount":"1.00"}}]`, "unknown_event"},
		{"corrupt event data", `[{"id":"e","version":1,"type":"credited","data":{"amount":"x"}}]`, "corrupt_event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			l.consistent()
			l.appendRaw([]sqlite.Row{{Stream: "wallet.z", Version: 1, CommandID: "c", Command: "credit", Data: json.RawMessage(`{}`),
				Outcome: sqlite.Accepted, Events: json.RawMessage(tc.events), Result: json.RawMessage(`{}`), Time: time.Now()}}, nil)
			_, err := Verify[wallet.State](context.Background(), l.store, wallet.Domain{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

// TestVerifyFailsOnInconsistentRows: a version belongs to accepted rows and to them only.
func TestVerifyFailsOnInconsistentRows(t *testing.T) {
	tests := []struct {
		name    string
		outcome string
		version int64
		want    string
	}{
		{"accepted without a version", sqlite.Accepted, 0, "row 7 of wallet.a is accepted without a version"},
		{"rejected with a version", sqlite.Rejected, 4, "row 7 of wallet.a is rejected with version 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			l.consistent()
			row, _ := l.decide("a", "credit", `"1"`)
			row.Outcome, row.Version = tc.outcome, tc.version
			l.appendRaw([]sqlite.Row{row}, nil)
			_, err := Verify[wallet.State](context.Background(), l.store, wallet.Domain{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

// TestReadLogStopsAtLast: the replay reads the log as of the seq it was given, not the
// rows appended since.
func TestReadLogStopsAtLast(t *testing.T) {
	defer func(c int64) { replayChunk = c }(replayChunk)
	replayChunk = 3
	l := newLedger(t)
	l.consistent() // seq 1 to 6, seq 2 rejected
	var seqs []int64
	err := readLog(context.Background(), l.store, nil, 4, 2, func(parts []replayPart) {
		for _, p := range parts {
			for _, r := range p.rows {
				seqs = append(seqs, r.seq)
			}
		}
	})
	slices.Sort(seqs)
	if err != nil || !slices.Equal(seqs, []int64{1, 3, 4}) {
		t.Fatalf("readLog up to 4 = %v, %v; want seqs 1, 3, 4", seqs, err)
	}
}
