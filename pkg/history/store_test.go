package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func openHistory(t *testing.T) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ev(id string, version int64) event.Envelope {
	return event.Envelope{ID: id, Stream: "wallet.a", Version: version, Type: "credited",
		Data: json.RawMessage(`{"amount":"1.00"}`), CommandID: "cmd-" + id, CorrelationID: "corr-" + id, Time: t0}
}

// evs returns events e1..en.
func evs(from, to int) []event.Envelope {
	var out []event.Envelope
	for i := from; i <= to; i++ {
		out = append(out, ev(fmt.Sprintf("e%d", i), int64(i)))
	}
	return out
}

func positions(es []history.Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Position)
	}
	return out
}

func TestAppendDedupsByEventID(t *testing.T) {
	ctx := context.Background()
	s := openHistory(t)
	steps := []struct {
		name   string
		events []event.Envelope
		added  int
		newest int64
	}{
		{"first batch", evs(1, 3), 3, 3},
		{"full redelivery", evs(1, 3), 0, 3},
		{"overlapping redelivery", evs(2, 5), 2, 5},
		{"duplicate inside one batch", []event.Envelope{ev("e6", 6), ev("e6", 6), ev("e7", 7)}, 2, 7},
		{"empty batch", nil, 0, 7},
	}
	for _, st := range steps {
		added, err := s.Append(ctx, st.events)
		if err != nil || added != st.added {
			t.Fatalf("%s: Append = %d, %v; want %d", st.name, added, err, st.added)
		}
		all, newest, err := s.After(ctx, 0, 1000)
		if err != nil || newest != st.newest {
			t.Fatalf("%s: newest %d, %v; want %d", st.name, newest, err, st.newest)
		}
		want := []int64{}
		for p := int64(1); p <= st.newest; p++ {
			want = append(want, p)
		}
		if !slices.Equal(positions(all), want) {
			t.Fatalf("%s: positions %v, want gapless %v", st.name, positions(all), want)
		}
		for i, e := range all {
			if e.ID != fmt.Sprintf("e%d", i+1) {
				t.Fatalf("%s: position %d holds %s, want e%d", st.name, e.Position, e.ID, i+1)
			}
		}
	}
}

func TestAppendRoundTripsTheEnvelope(t *testing.T) {
	ctx := context.Background()
	s := openHistory(t)
	in := ev("x", 4)
	in.CausationID = "cause"
	noOptional := ev("y", 5)
	noOptional.CorrelationID = ""
	if _, err := s.Append(ctx, []event.Envelope{in, noOptional}); err != nil {
		t.Fatal(err)
	}
	all, _, err := s.After(ctx, 0, 10)
	if err != nil || len(all) != 2 {
		t.Fatalf("After: %d entries, %v", len(all), err)
	}
	got := all[0]
	if got.ID != in.ID || got.Stream != in.Stream || got.Version != in.Version || got.Type != in.Type ||
		string(got.Data) != string(in.Data) || got.CommandID != in.CommandID || got.CorrelationID != in.CorrelationID ||
		got.CausationID != in.CausationID || !got.Time.Equal(in.Time) {
		t.Fatalf("read back %+v\nwrote %+v", got.Envelope, in)
	}
	if all[1].CorrelationID != "" || all[1].CausationID != "" {
		t.Fatalf("empty optional ids read back as %q, %q", all[1].CorrelationID, all[1].CausationID)
	}
}

func TestAfterPages(t *testing.T) {
	ctx := context.Background()
	s := openHistory(t)
	if _, err := s.Append(ctx, evs(1, 5)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		after int64
		limit int
		want  []int64
	}{
		{"first page", 0, 2, []int64{1, 2}},
		{"second page", 2, 2, []int64{3, 4}},
		{"last page", 4, 2, []int64{5}},
		{"past the end", 5, 2, []int64{}},
		{"far past the end", 100, 2, []int64{}},
		{"everything", 0, 100, []int64{1, 2, 3, 4, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, newest, err := s.After(ctx, tc.after, tc.limit)
			if err != nil || newest != 5 || !slices.Equal(positions(got), tc.want) {
				t.Fatalf("After(%d, %d) = %v, newest %d, %v; want %v, newest 5", tc.after, tc.limit, positions(got), newest, err, tc.want)
			}
		})
	}
}

func TestEmptyHistory(t *testing.T) {
	s := openHistory(t)
	got, newest, err := s.After(context.Background(), 0, 10)
	if err != nil || newest != 0 || got == nil || len(got) != 0 {
		t.Fatalf("After on empty = %v (nil %v), %d, %v; want [], 0", got, got == nil, newest, err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
