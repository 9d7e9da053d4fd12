// Package history keeps the global, ordered log of every domain's events: it consumes the
// EVENTS JetStream stream into its own SQLite file, where each event gets a gapless
// position, and serves it page by page over HTTP.
package history

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
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

// Store is the history's SQLite log. Append is for one goroutine; reads are safe for
// concurrent use.
type Store struct {
	w, r            *sql.DB
	inserts         [len(insertRows)]*sql.Stmt // prepared on w at Open, never while a transaction holds it
	stopCheckpoints func()
	appended        notifier // wakes the readers of GET /history/events after each commit
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
func (s *Store) Append(ctx context.Context, events []event.Envelope) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var stmts [len(insertRows)]*sql.Stmt // this transaction's view of s.inserts
	args := make([]any, 0, 1+insertColumns*min(len(events), insertRows[0]))
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
		for _, e := range events[:insertRows[i]] {
			args = append(args, e.ID, e.Stream, e.Version, e.Type, string(e.Data), e.CommandID,
				e.CorrelationID, e.CausationID, e.Time.UTC().Format(time.RFC3339Nano))
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

const insertColumns = 9 // bound per row; recorded is bound once per statement

// insertSQL is the statement inserting n rows, each with the same recorded time (?1).
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR IGNORE INTO history (recorded, event_id, stream, version, type, data, command_id, correlation_id, causation_id, time) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?1,?,?,?,?,?,?,?,?,?)`)
	}
	return b.String()
}

// After returns up to limit entries with position > after, and the newest position.
func (s *Store) After(ctx context.Context, after int64, limit int) ([]Entry, int64, error) {
	var newest int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM history`).Scan(&newest); err != nil {
		return nil, 0, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT position, event_id, stream, version, type, data, command_id, coalesce(correlation_id, ''), coalesce(causation_id, ''), time FROM history WHERE position > ? ORDER BY position LIMIT ?`, after, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var data, ts string
		if err := rows.Scan(&e.Position, &e.ID, &e.Stream, &e.Version, &e.Type, &data, &e.CommandID, &e.CorrelationID, &e.CausationID, &ts); err != nil {
			return nil, 0, err
		}
		e.Data = json.RawMessage(data)
		e.Time, _ = time.Parse(time.RFC3339Nano, ts)
		out = append(out, e)
	}
	return out, newest, rows.Err()
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }
