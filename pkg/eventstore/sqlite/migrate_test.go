package sqlite_test

import (
	"context"
	"io/fs"
	"math"
	"path/filepath"
	"testing"
	"testing/fstest"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// TestStateLogMigratesToEventSeqs: a file written with the first schema (a state log with
// its own seq and index) opens with the current one; every state row is kept, under the
// seq of the event row that produced its version, and the newest states read back.
func TestStateLogMigratesToEventSeqs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	first, err := fs.ReadFile(sqlite.Migrations, "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.OpenDB(path, false, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Migrate(ctx, db, fstest.MapFS{"migrations/0001_init.sql": {Data: first}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO event (seq, stream, version, command_id, command, data, outcome, events, result, time) VALUES
			(1, 'wallet.a', 1, 'c1', 'credit', '{}', 'accepted', '[]', '{}', 't'),
			(2, 'wallet.b', 1, 'c2', 'credit', '{}', 'accepted', '[]', '{}', 't'),
			(3, 'wallet.a', NULL, 'c3', 'debit', '{}', 'rejected', '[]', '{}', 't'),
			(4, 'wallet.a', 2, 'c4', 'credit', '{}', 'accepted', '[]', '{}', 't'),
			(5, 'wallet.a', 3, 'c5', 'credit', '{}', 'accepted', '[]', '{}', 't')`,
		// old state seqs are the state log's own: 1, 2, 3
		`INSERT INTO state (seq, stream, version, state, time) VALUES
			(1, 'wallet.a', 1, '{"v":"a1"}', 't'), (2, 'wallet.b', 1, '{"v":"b1"}', 't'), (3, 'wallet.a', 3, '{"v":"a3"}', 't')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open with the current schema: %v", err)
	}
	defer s.Close()
	var got []string
	if err := s.ForEachLatestState(ctx, math.MaxInt64, func(st sqlite.State) error {
		got = append(got, st.Stream+" "+string(st.State))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{`wallet.a {"v":"a3"}`, `wallet.b {"v":"b1"}`}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("newest states after migration %q, want %q", got, want)
	}
	ro, err := sqlite.OpenDB(path, true, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var seqs string
	if err := ro.QueryRow(`SELECT group_concat(seq || ':' || stream || '@' || version, ' ') FROM (SELECT * FROM state ORDER BY seq)`).Scan(&seqs); err != nil {
		t.Fatal(err)
	}
	if want := "1:wallet.a@1 2:wallet.b@1 5:wallet.a@3"; seqs != want {
		t.Fatalf("state rows after migration %q, want %q (each under its event row's seq)", seqs, want)
	}
}
