// Package history keeps the global, ordered log of every domain's events: it consumes the
// EVENTS JetStream stream into its own SQLite file, where each event gets a gapless
// position, and serves it page by page over HTTP.
package history

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Entry is one event in the history.
type Entry struct {
	Position int64 `json:"position"`
	event.Envelope
}

// Store is the history's SQLite log, safe for concurrent use: appends (one copier per
// JetStream domain) take turns on its one write connection, so positions stay gapless.
type Store struct {
	w, r            *sql.DB
	inserts         [len(insertRows)]*sql.Stmt // prepared on w at Open, never while a transaction holds it
	stopCheckpoints func()
	appended        notifier // wakes the readers of GET /history/events after each commit
	up              *event.Upcasters
}

// Open opens (creating and migrating if needed) the history at path.
func Open(ctx context.Context, path string) (*Store, error) {
	w, err := sqlitedb.Open(path, false, sqlitedb.Options{})
	if err != nil {
		return nil, err
	}
	if err := sqlitedb.Migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, err
	}
	s := &Store{w: w}
	for i, n := range insertRows {
		if s.inserts[i], err = w.PrepareContext(ctx, insertSQL(n)); err != nil {
			w.Close()
			return nil, err
		}
	}
	if s.r, err = sqlitedb.Open(path, true, sqlitedb.Options{}); err != nil {
		w.Close()
		return nil, err
	}
	if s.stopCheckpoints, err = sqlitedb.StartCheckpoints(path, 100*time.Millisecond, sqlitedb.Options{}); err != nil {
		w.Close()
		s.r.Close()
		return nil, err
	}
	return s, nil
}

// UseUpcasters makes the store upcast (event.Upcasters) every event it stores and every
// event it reads: what it stores and serves is then in the current version of its type,
// whatever version the event came in or was stored in before. An event it cannot upcast
// (a version newer than this build knows, data its upcaster refuses) is stored and
// served as it came, with its schema version: the history loses nothing and blocks no
// reader for it. Call it before any other method; without it events are kept and served
// as they came.
func (s *Store) UseUpcasters(up *event.Upcasters) { s.up = up }

// Close closes the store.
func (s *Store) Close() error {
	s.stopCheckpoints()
	var errs []error
	for _, st := range s.inserts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, s.w.Close(), s.r.Close())...)
}

// Append stores events in order in one transaction; an event id already stored is
// skipped (a redelivery), so positions stay gapless. It returns how many were new.
// Events are stored as given: decode them with event.Decode and the store's upcasters.
func (s *Store) Append(ctx context.Context, events []event.Envelope) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var stmts [len(insertRows)]*sql.Stmt // this transaction's view of s.inserts
	args := make([]any, 0, 1+insertColumns*min(len(events), insertRows[0]))
	buf := make([]byte, 0, 1024)
	added := 0
	for len(events) > 0 {
		i := 0
		for insertRows[i] > len(events) {
			i++
		}
		if stmts[i] == nil {
			stmts[i] = tx.StmtContext(ctx, s.inserts[i])
		}
		args = append(args[:0], now)
		for j := range events[:insertRows[i]] {
			e := &events[j]
			buf = appendEnvelope(buf[:0], e)
			args = append(args, e.ID, e.Stream, string(buf))
		}
		res, err := stmts[i].ExecContext(ctx, args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		added += int(n)
		events = events[insertRows[i]:]
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	s.appended.notify()
	return added, nil
}

// insertRows are the sizes of the prepared inserts, largest first: Append stores a batch
// in chunks of these sizes (a batch of 45 takes 32, 8, 4 and 1 rows).
var insertRows = [...]int{64, 32, 16, 8, 4, 2, 1}

const insertColumns = 3 // bound per row; recorded is bound once per statement

// insertSQL is the statement inserting n rows, each with the same recorded time (?1).
// A row is the event's envelope as RangeJSON serves it (appendEnvelope: encoded once,
// here) and the columns a query needs apart from it: the event id (UNIQUE, the
// deduplication) and the stream (the prefix filter).
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR IGNORE INTO history (recorded, event_id, stream, envelope) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?1,?,?,?)`)
	}
	return b.String()
}

// After returns up to limit entries with position > after, and the newest position.
func (s *Store) After(ctx context.Context, after int64, limit int) ([]Entry, int64, error) {
	newest, err := s.Newest(ctx)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.Range(ctx, after, newest, "", limit)
	if out == nil {
		out = []Entry{}
	}
	return out, newest, err
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }
