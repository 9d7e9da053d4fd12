package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/sqlitedb"
)

// BenchmarkMigrate measures migration 0003 (each row's envelope in one column) on a
// history of b.N wallet events written before it (migrations 0001 and 0002, rows inserted
// with SQL): ns/op is its time per row, as history.Open applies it. It reports the file's
// bytes per event before, after the migration (the old table's pages stay as free pages)
// and for the same events appended to a new history with Store.Append.
//
//	go test -run '^$' -bench Migrate -benchtime 1000000x ./pkg/history/
func BenchmarkMigrate(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	events := walletEvents(b.N)
	old := filepath.Join(dir, "old.db")
	writeOldEvents(b, old, events)
	oldSize := fileSize(b, old)

	b.ResetTimer()
	s, err := history.Open(ctx, old)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if newest, err := s.Newest(ctx); err != nil || newest != int64(b.N) {
		b.Fatalf("migrated %d rows of %d: %v", newest, b.N, err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	migrated := fileSize(b, old)

	fresh := filepath.Join(dir, "new.db")
	s, err = history.Open(ctx, fresh)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(events); i += 1000 {
		if _, err := s.Append(ctx, events[i:min(i+1000, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(oldSize)/float64(b.N), "old-bytes/event")
	b.ReportMetric(float64(migrated)/float64(b.N), "migrated-bytes/event")
	b.ReportMetric(float64(fileSize(b, fresh))/float64(b.N), "new-bytes/event")
}

// walletEvents returns n credits over 1,000 wallets, as the writer stores them.
func walletEvents(n int) []event.Envelope {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = event.NewID()
	}
	now := time.Now().UTC()
	out := make([]event.Envelope, n)
	for i := range out {
		cmd := event.NewID()
		out[i] = event.Envelope{ID: event.NewID(), Stream: "wallet." + ids[i%1000], Version: int64(i/1000 + 1), Type: "credited",
			Data: json.RawMessage(fmt.Sprintf(`{"amount":"5.00","balance":"%d.00"}`, 5*(i/1000+1))), CommandID: cmd, CausationID: cmd, Time: now}
	}
	return out
}

// writeOldEvents writes events into a history at path in the shape before migration 0003.
func writeOldEvents(b *testing.B, path string, events []event.Envelope) {
	ctx := context.Background()
	files := fstest.MapFS{}
	for _, name := range []string{"0001_init.sql", "0002_schema.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			b.Fatal(err)
		}
		files["migrations/"+name] = &fstest.MapFile{Data: body}
	}
	db, err := sqlitedb.Open(path, false, sqlitedb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := sqlitedb.Migrate(ctx, db, files); err != nil {
		b.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	st, err := tx.PrepareContext(ctx, `INSERT INTO history (recorded, event_id, stream, version, type, data, command_id, correlation_id, causation_id, time)
		VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range events {
		ts := e.Time.Format(time.RFC3339Nano)
		if _, err := st.ExecContext(ctx, ts, e.ID, e.Stream, e.Version, e.Type, string(e.Data), e.CommandID, e.CausationID, ts); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
}

// fileSize is the size of the SQLite file at path (its WAL checkpointed on close).
func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
