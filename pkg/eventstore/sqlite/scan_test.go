package sqlite_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

func TestMaxSeq(t *testing.T) {
	s, _ := openStore(t)
	if seq, err := s.MaxSeq(context.Background()); seq != 0 || err != nil {
		t.Fatalf("empty store: MaxSeq = %d, %v", seq, err)
	}
	fill(t, s)
	if seq, err := s.MaxSeq(context.Background()); seq != 6 || err != nil {
		t.Fatalf("MaxSeq = %d, %v; want 6", seq, err)
	}
}

func newLogReader(t *testing.T, s *sqlite.Store) *sqlite.LogReader {
	t.Helper()
	r, err := s.NewLogReader(context.Background())
	if err != nil {
		t.Fatalf("NewLogReader: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestLogReaderForEachAccepted(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s) // seq 1 a1, 2 b1, 3 rejected, 4 a2, 5 b2, 6 a3
	r := newLogReader(t, s)
	type seen struct {
		seq     int64
		stream  string
		version int64
	}
	tests := []struct {
		after, upTo int64
		want        []seen
	}{
		{0, 100, []seen{{1, "wallet.a", 1}, {2, "wallet.b", 1}, {4, "wallet.a", 2}, {5, "wallet.b", 2}, {6, "wallet.a", 3}}},
		{1, 4, []seen{{2, "wallet.b", 1}, {4, "wallet.a", 2}}},
		{2, 3, nil},
		{6, 100, nil},
	}
	for _, tc := range tests {
		var got []seen
		err := r.ForEachAccepted(context.Background(), tc.after, tc.upTo, func(seq int64, stream []byte, version int64, events []byte) error {
			if !strings.Contains(string(events), `"stream":"`+string(stream)+`"`) {
				t.Errorf("row %d: events %s", seq, events)
			}
			got = append(got, seen{seq, string(stream), version})
			return nil
		})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Fatalf("ForEachAccepted(%d, %d) = %v, %v; want %v", tc.after, tc.upTo, got, err, tc.want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := r.ForEachAccepted(context.Background(), 0, 100, func(int64, []byte, int64, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("fn error: got %v after %d calls, want stop after 1", err, calls)
	}
}

func TestLogReaderRefusesInconsistentRows(t *testing.T) {
	tests := []struct {
		name string
		row  sqlite.Row
		want string
	}{
		{"accepted without a version", accepted("wallet.a", 0, ""), "row 1 of wallet.a is accepted without a version"},
		{"a version but rejected", func() sqlite.Row {
			r := rejected("wallet.a", "c1")
			r.Version = 2
			return r
		}(), "row 1 of wallet.a is rejected with version 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openStore(t)
			mustAppend(t, s, []sqlite.Row{tc.row}, nil, 0)
			err := newLogReader(t, s).ForEachAccepted(context.Background(), 0, 100, func(int64, []byte, int64, []byte) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ForEachAccepted error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLogReaderStateAt(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	r := newLogReader(t, s)
	for _, tc := range []struct {
		seq  int64
		ok   bool
		want string
	}{
		{1, true, string(state("wallet.a", 1).State)},
		{5, true, string(state("wallet.b", 2).State)},
		{3, false, ""}, // the rejected row
		{7, false, ""},
	} {
		doc, ok, err := r.StateAt(tc.seq)
		if err != nil || ok != tc.ok || string(doc) != tc.want {
			t.Fatalf("StateAt(%d) = %s, %v, %v; want %s, %v", tc.seq, doc, ok, err, tc.want, tc.ok)
		}
	}
}

func TestForEachLatestStateAsOfASeq(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	var got []string
	err := s.ForEachLatestState(context.Background(), 4, func(st sqlite.State) error {
		got = append(got, st.Stream+" "+string(st.State))
		return nil
	})
	want := []string{"wallet.a " + string(state("wallet.a", 2).State), "wallet.b " + string(state("wallet.b", 1).State)}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ForEachLatestState(4) = %v, %v; want %v", got, err, want)
	}
}
