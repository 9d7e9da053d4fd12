package sqlite_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// fill appends a small history: wallet.a v1..3 (with a rejected row between), wallet.b v1..2.
func fill(t *testing.T, s *sqlite.Store) {
	t.Helper()
	mustAppend(t, s, []sqlite.Row{accepted("wallet.a", 1, "ka1"), accepted("wallet.b", 1, "kb1")},
		[]sqlite.State{state("wallet.a", 1), state("wallet.b", 1)}, 0)
	mustAppend(t, s, []sqlite.Row{rejected("wallet.a", "r1"), accepted("wallet.a", 2, "")},
		[]sqlite.State{state("wallet.a", 2)}, 0)
	mustAppend(t, s, []sqlite.Row{accepted("wallet.b", 2, "shared"), accepted("wallet.a", 3, "")},
		[]sqlite.State{state("wallet.b", 2), state("wallet.a", 3)}, 0)
}

func TestLatestState(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	tests := []struct {
		name    string
		stream  string
		ok      bool
		version int64
	}{
		{"newest of a", "wallet.a", true, 3},
		{"newest of b", "wallet.b", true, 2},
		{"never written", "wallet.c", false, 0},
		{"prefix is not a stream", "wallet", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, ok, err := s.LatestState(context.Background(), tc.stream)
			if err != nil || ok != tc.ok || st.Version != tc.version {
				t.Fatalf("LatestState = %+v, %v, %v; want ok=%v version %d", st, ok, err, tc.ok, tc.version)
			}
			if ok && (st.Stream != tc.stream || string(st.State) != string(state(tc.stream, tc.version).State) || !st.Time.Equal(t0)) {
				t.Fatalf("LatestState = %+v", st)
			}
		})
	}
}

func TestFindIdempotentIsScopedPerStream(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	mustAppend(t, s, []sqlite.Row{accepted("wallet.c", 1, "shared")}, nil, 0) // same key, other stream: allowed
	tests := []struct {
		name    string
		stream  string
		key     string
		ok      bool
		version int64
	}{
		{"found", "wallet.a", "ka1", true, 1},
		{"same key other stream", "wallet.c", "shared", true, 1},
		{"same key first stream", "wallet.b", "shared", true, 2},
		{"key of another stream", "wallet.b", "ka1", false, 0},
		{"unknown key", "wallet.a", "nope", false, 0},
		{"empty key matches no unkeyed row", "wallet.a", "", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok, err := s.FindIdempotent(context.Background(), tc.stream, tc.key)
			if err != nil || ok != tc.ok || r.Version != tc.version {
				t.Fatalf("FindIdempotent = %+v, %v, %v; want ok=%v version %d", r, ok, err, tc.ok, tc.version)
			}
			if ok && (r.Stream != tc.stream || r.IdempotencyKey != tc.key) {
				t.Fatalf("FindIdempotent returned %s/%s", r.Stream, r.IdempotencyKey)
			}
		})
	}
}

func TestRowsAfterRoundTripsEveryField(t *testing.T) {
	s, _ := openStore(t)
	in := accepted("wallet.a", 1, "key")
	mustAppend(t, s, []sqlite.Row{in}, nil, 0)
	rows := allRows(t, s)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	got := rows[0]
	if got.Seq != 1 || got.Stream != in.Stream || got.Version != in.Version || got.CommandID != in.CommandID ||
		got.Command != in.Command || string(got.Data) != string(in.Data) || got.Outcome != in.Outcome ||
		string(got.Events) != string(in.Events) || string(got.Result) != string(in.Result) ||
		got.IdempotencyKey != in.IdempotencyKey || got.CorrelationID != in.CorrelationID || !got.Time.Equal(in.Time) {
		t.Fatalf("read back %+v\nwrote %+v", got, in)
	}
}

func TestRowsAfterPages(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	tests := []struct {
		name  string
		after int64
		limit int
		want  []int64
	}{
		{"all", 0, 100, []int64{1, 2, 3, 4, 5, 6}},
		{"first page", 0, 2, []int64{1, 2}},
		{"second page", 2, 2, []int64{3, 4}},
		{"tail", 5, 10, []int64{6}},
		{"past the end", 6, 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := s.RowsAfter(context.Background(), tc.after, tc.limit)
			if err != nil || !slices.Equal(seqs(rows), tc.want) {
				t.Fatalf("RowsAfter(%d, %d) = %v, %v; want %v", tc.after, tc.limit, seqs(rows), err, tc.want)
			}
		})
	}
}

func TestStreamRowsSkipsRejected(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	tests := []struct {
		name   string
		stream string
		after  int64
		limit  int
		want   []int64 // versions
	}{
		{"all of a", "wallet.a", 0, 100, []int64{1, 2, 3}},
		{"after 1", "wallet.a", 1, 100, []int64{2, 3}},
		{"limited", "wallet.a", 0, 2, []int64{1, 2}},
		{"other stream", "wallet.b", 0, 100, []int64{1, 2}},
		{"unknown stream", "wallet.z", 0, 100, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := s.StreamRows(context.Background(), tc.stream, tc.after, tc.limit)
			var got []int64
			for _, r := range rows {
				if r.Stream != tc.stream || r.Outcome != sqlite.Accepted {
					t.Fatalf("StreamRows returned %s %s", r.Stream, r.Outcome)
				}
				got = append(got, r.Version)
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("StreamRows = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestForEachLatestState(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	var got []sqlite.State
	err := s.ForEachLatestState(context.Background(), math.MaxInt64, func(st sqlite.State) error {
		got = append(got, st)
		return nil
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("ForEachLatestState: %d states, %v", len(got), err)
	}
	for i, want := range []sqlite.State{state("wallet.a", 3), state("wallet.b", 2)} {
		if got[i].Stream != want.Stream || got[i].Version != want.Version || string(got[i].State) != string(want.State) {
			t.Fatalf("state %d = %s v%d %s, want %s v%d %s", i, got[i].Stream, got[i].Version, got[i].State, want.Stream, want.Version, want.State)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.ForEachLatestState(context.Background(), math.MaxInt64, func(sqlite.State) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("fn error: got %v after %d calls, want stop after 1", err, calls)
	}
}

func TestForEachAcceptedInSeqOrder(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	type seen struct {
		stream  string
		version int64
	}
	r, err := s.NewLogReader(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []seen
	err = r.ForEachAccepted(context.Background(), 0, math.MaxInt64, func(_ int64, stream []byte, version int64, events []byte) error {
		if len(events) == 0 || events[0] != '[' {
			t.Errorf("%s v%d: events %q", stream, version, events)
		}
		got = append(got, seen{string(stream), version})
		return nil
	})
	want := []seen{{"wallet.a", 1}, {"wallet.b", 1}, {"wallet.a", 2}, {"wallet.b", 2}, {"wallet.a", 3}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ForEachAccepted = %v, %v; want %v", got, err, want)
	}
	stop := errors.New("stop")
	if err := r.ForEachAccepted(context.Background(), 0, math.MaxInt64, func(int64, []byte, int64, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("fn error: got %v, want stop", err)
	}
}
