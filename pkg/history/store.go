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
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
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
	stopCheckpoints func()
}

// Open opens (creating and migrating if needed) the history at path.
func Open(ctx context.Context, path string) (*Store, error) {
	w, err := sqlite.OpenDB(path, false, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	if err := sqlite.Migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sqlite.OpenDB(path, true, sqlite.Options{})
	if err != nil {
		w.Close()
		return nil, err
	}
	stop, err := sqlite.StartCheckpoints(path, 100*time.Millisecond, sqlite.Options{})
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return &Store{w: w, r: r, stopCheckpoints: stop}, nil
}

// Close closes the store.
func (s *Store) Close() error {
	s.stopCheckpoints()
	return errors.Join(s.w.Close(), s.r.Close())
}

// Append stores events in order in one transaction; an event id already stored is
// skipped (a redelivery), so positions stay gapless. It returns how many were new.
func (s *Store) Append(ctx context.Context, events []event.Envelope) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	stmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO history (event_id, stream, version, type, data, command_id, correlation_id, causation_id, time, recorded) VALUES (?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	added := 0
	for _, e := range events {
		res, err := stmt.ExecContext(ctx, e.ID, e.Stream, e.Version, e.Type, string(e.Data), e.CommandID,
			e.CorrelationID, e.CausationID, e.Time.UTC().Format(time.RFC3339Nano), now)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			added++
		}
	}
	return added, tx.Commit()
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
