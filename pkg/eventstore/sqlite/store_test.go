package sqlite_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/failure"
)

func TestOpenMigratesOnceAndReopens(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	mustAppend(t, s, []sqlite.Row{accepted("wallet.a", 1, "")}, []sqlite.State{state("wallet.a", 1)}, 0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := 0; i < 2; i++ { // re-open twice: migrations must not re-run
		s2, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatalf("re-open %d: %v", i, err)
		}
		if got := s2.LastSeq(); got != 1 {
			t.Fatalf("re-open %d: LastSeq = %d, want 1", i, got)
		}
		if got := len(allRows(t, s2)); got != 1 {
			t.Fatalf("re-open %d: %d rows, want 1", i, got)
		}
		s2.Close()
	}
	db, err := sqlite.OpenDB(path, true, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	want, _ := fs.Glob(sqlite.Migrations, "migrations/*.sql")
	if err := db.QueryRow(`SELECT count(*) FROM schema_migration`).Scan(&n); err != nil || n != len(want) {
		t.Fatalf("schema_migration has %d rows (%v), want %d", n, err, len(want))
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
	}
}

func TestAppendAssignsGaplessSeqAcrossReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	if s.LastSeq() != 0 {
		t.Fatalf("empty store: LastSeq = %d", s.LastSeq())
	}
	batch := []sqlite.Row{accepted("wallet.a", 1, ""), rejected("wallet.a", "r1"), accepted("wallet.b", 1, "")}
	mustAppend(t, s, batch, nil, 0)
	if got := seqs(batch); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("assigned seqs %v, want [1 2 3]", got)
	}
	mustAppend(t, s, nil, nil, 0) // an empty append changes nothing
	one := []sqlite.Row{accepted("wallet.a", 2, "")}
	mustAppend(t, s, one, nil, 0)
	if one[0].Seq != 4 || s.LastSeq() != 4 {
		t.Fatalf("seq %d, LastSeq %d; want 4, 4", one[0].Seq, s.LastSeq())
	}
	s.Close()

	s2, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	more := []sqlite.Row{accepted("wallet.b", 2, ""), accepted("wallet.c", 1, "")}
	mustAppend(t, s2, more, nil, 0)
	if got := seqs(allRows(t, s2)); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("seqs after reopen %v, want 1..6", got)
	}
}

func TestAppendConflictWritesNothing(t *testing.T) {
	tests := []struct {
		name   string
		rows   []sqlite.Row
		states []sqlite.State
	}{
		{"duplicate version with an earlier append", []sqlite.Row{accepted("wallet.b", 1, ""), accepted("wallet.a", 1, "")}, nil},
		{"duplicate version within the batch", []sqlite.Row{accepted("wallet.b", 1, ""), accepted("wallet.b", 1, "")}, nil},
		{"duplicate idempotency key", []sqlite.Row{accepted("wallet.b", 1, ""), accepted("wallet.a", 2, "k1")}, nil},
		{"duplicate state version", []sqlite.Row{accepted("wallet.b", 1, "")}, []sqlite.State{state("wallet.b", 1), state("wallet.a", 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openStore(t)
			mustAppend(t, s, []sqlite.Row{accepted("wallet.a", 1, "k1")}, []sqlite.State{state("wallet.a", 1)}, 1)
			err := s.Append(context.Background(), tc.rows, tc.states, 7)
			if k := failure.KindOf(err); k != failure.Conflict {
				t.Fatalf("Append error %v (kind %q), want kind conflict", err, k)
			}
			for _, r := range tc.rows {
				if r.Seq != 0 {
					t.Fatalf("failed append assigned seq %d", r.Seq)
				}
			}
			if got := seqs(allRows(t, s)); !slices.Equal(got, []int64{1}) {
				t.Fatalf("rows after failed append: seqs %v, want [1]", got)
			}
			if _, ok, _ := s.LatestState(context.Background(), "wallet.b"); ok {
				t.Fatal("failed append wrote a state")
			}
			if p, _ := s.PublishedSeq(context.Background()); p != 1 {
				t.Fatalf("failed append moved the outbox cursor to %d", p)
			}
			if s.LastSeq() != 1 {
				t.Fatalf("LastSeq = %d after failed append, want 1", s.LastSeq())
			}
			next := []sqlite.Row{accepted("wallet.b", 1, "")}
			mustAppend(t, s, next, nil, 0)
			if next[0].Seq != 2 {
				t.Fatalf("next append got seq %d, want 2 (no gap)", next[0].Seq)
			}
		})
	}
}

func TestRejectedRowsHaveNoVersion(t *testing.T) {
	s, _ := openStore(t)
	// Rejected rows store version NULL, so many of them on one stream do not conflict.
	mustAppend(t, s, []sqlite.Row{rejected("wallet.a", "r1"), rejected("wallet.a", "r2"), accepted("wallet.a", 1, "")}, nil, 0)
	rows := allRows(t, s)
	if len(rows) != 3 || rows[0].Version != 0 || rows[1].Version != 0 || rows[2].Version != 1 {
		t.Fatalf("rows %+v", rows)
	}
}

func TestPublishedSeqKeepsTheMax(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	steps := []struct {
		name      string
		published int64
		want      int64
	}{
		{"starts at zero", 0, 0},
		{"moves forward", 5, 5},
		{"never moves back", 3, 5},
		{"zero means unchanged", 0, 5},
		{"moves forward again", 9, 9},
	}
	for _, st := range steps {
		mustAppend(t, s, nil, nil, st.published)
		got, err := s.PublishedSeq(ctx)
		if err != nil || got != st.want {
			t.Fatalf("%s: PublishedSeq = %d, %v; want %d", st.name, got, err, st.want)
		}
	}
}

// TestAppendRefusesAStateNoEventProduced: a state row names the event row that produced
// its version; a state of a version no row holds is refused and nothing is written.
func TestAppendRefusesAStateNoEventProduced(t *testing.T) {
	s, _ := openStore(t)
	mustAppend(t, s, []sqlite.Row{accepted("wallet.a", 1, "")}, []sqlite.State{state("wallet.a", 1)}, 0)
	err := s.Append(context.Background(), []sqlite.Row{accepted("wallet.a", 2, "")}, []sqlite.State{state("wallet.a", 2), state("wallet.ghost", 1)}, 0)
	if err == nil || !strings.Contains(err.Error(), "wallet.ghost version 1: no event row") {
		t.Fatalf("Append of a state without its event row: %v, want an error naming it", err)
	}
	if s.LastSeq() != 1 || len(allRows(t, s)) != 1 {
		t.Fatalf("the refused Append wrote rows: LastSeq %d", s.LastSeq())
	}
	st, ok, err := s.LatestState(context.Background(), "wallet.a")
	if err != nil || !ok || st.Version != 1 {
		t.Fatalf("LatestState after the refused Append = %+v, %v, %v; want version 1", st, ok, err)
	}
	// the state of a version an earlier Append wrote goes under that row's seq
	mustAppend(t, s, []sqlite.Row{accepted("wallet.a", 2, "")}, nil, 0)
	mustAppend(t, s, []sqlite.Row{accepted("wallet.b", 1, "")}, []sqlite.State{state("wallet.a", 2)}, 0)
	if st, ok, err := s.LatestState(context.Background(), "wallet.a"); err != nil || !ok || st.Version != 2 {
		t.Fatalf("LatestState = %+v, %v, %v; want version 2", st, ok, err)
	}
}
