// Package sqlite is the event store of a writer: the event log (one row per command, with
// its outcome and events), the state log (the state after each transaction), the
// idempotency records and the outbox cursor, in one SQLite file.
//
// A Store has one write connection, used by one goroutine at a time (the writer's commit
// loop), and a pool of read connections safe for concurrent use.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Outcomes of a command row.
const (
	Accepted = "accepted"
	Rejected = "rejected"
)

// Row is one command in the event log.
type Row struct {
	Seq            int64
	Stream         string
	Version        int64 // entity version after the command; 0 when rejected (stored as NULL)
	CommandID      string
	Command        string
	Data           json.RawMessage
	Outcome        string
	Events         json.RawMessage // JSON array of event.Envelope
	Result         json.RawMessage
	IdempotencyKey string
	CorrelationID  string
	Time           time.Time
}

// State is one entry of the state log: the state of Stream at Version, the version an
// event row of the same or an earlier Append produced.
type State struct {
	Stream  string
	Version int64
	State   json.RawMessage
	Time    time.Time
}

// Store is an open event store.
type Store struct {
	w       *sql.DB
	r       *sql.DB
	nextSeq int64 // owned by the write connection's user
	path    string

	insertEvent, insertState *sql.Stmt // prepared once on the write connection
	stopCheckpoints          func()
}

// Open opens (creating and migrating if needed) the store at path.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	w, err := OpenDB(path, false, o)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, mapErr("migrate", err)
	}
	r, err := OpenDB(path, true, o)
	if err != nil {
		w.Close()
		return nil, err
	}
	s := &Store{w: w, r: r, path: path}
	if s.stopCheckpoints, err = StartCheckpoints(path, 100*time.Millisecond, o); err != nil {
		s.Close()
		return nil, err
	}
	if s.insertEvent, err = w.PrepareContext(ctx, `INSERT INTO event (seq, stream, version, command_id, command, data, outcome, events, result, idempotency_key, correlation_id, time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`); err != nil {
		s.Close()
		return nil, mapErr("prepare", err)
	}
	if s.insertState, err = w.PrepareContext(ctx, `INSERT INTO state (seq, stream, version, state, time) VALUES (?,?,?,?,?)`); err != nil {
		s.Close()
		return nil, mapErr("prepare", err)
	}
	if err := w.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) + 1 FROM event`).Scan(&s.nextSeq); err != nil {
		s.Close()
		return nil, mapErr("read sequence", err)
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
	}
	for _, st := range []*sql.Stmt{s.insertEvent, s.insertState} {
		if st != nil {
			st.Close()
		}
	}
	return errors.Join(s.w.Close(), s.r.Close())
}

// Append writes rows (assigning their Seq), states and, if publishedSeq > 0, the outbox
// cursor in one transaction with one fsync: Commit without timers.
func (s *Store) Append(ctx context.Context, rows []Row, states []State, publishedSeq int64) error {
	return s.Commit(ctx, Batch{Rows: rows, States: states, PublishedSeq: publishedSeq})
}

// Commit writes b in one transaction with one fsync: its rows (assigning their Seq), states,
// timer changes and, if b.PublishedSeq > 0, the outbox cursor. On error nothing is written
// and the sequence does not advance. Not safe for concurrent use.
func (s *Store) Commit(ctx context.Context, b Batch) (err error) {
	rows, states, publishedSeq := b.Rows, b.States, b.PublishedSeq
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("begin", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback() //nolint:errcheck // the original error matters
		}
	}()
	seq := s.nextSeq
	if err := insertRows(ctx, tx.StmtContext(ctx, s.insertEvent), rows, seq); err != nil {
		return err
	}
	if err := insertStates(ctx, tx, tx.StmtContext(ctx, s.insertState), states, rows, seq); err != nil {
		return err
	}
	if err := changeTimers(ctx, tx, b.Timers); err != nil {
		return err
	}
	if publishedSeq > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET published_seq = max(published_seq, ?) WHERE name = 'events'`, publishedSeq); err != nil {
			return mapErr("outbox cursor", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return mapErr("commit", err)
	}
	for i := range rows {
		rows[i].Seq = seq + int64(i)
	}
	s.nextSeq = seq + int64(len(rows))
	return nil
}

func insertRows(ctx context.Context, stmt *sql.Stmt, rows []Row, seq int64) error {
	for i, r := range rows {
		if _, err := stmt.ExecContext(ctx, seq+int64(i), r.Stream, nullInt(r.Version), r.CommandID, r.Command,
			string(r.Data), r.Outcome, string(r.Events), string(r.Result), nullString(r.IdempotencyKey),
			nullString(r.CorrelationID), r.Time.UTC().Format(time.RFC3339Nano)); err != nil {
			return mapErr(fmt.Sprintf("append %s", r.Stream), err)
		}
	}
	return nil
}

// insertStates writes each state under the seq of the event row that produced its
// version: a row of this batch (the first of which gets seq first), or an earlier one.
func insertStates(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, states []State, rows []Row, first int64) error {
	type streamVersion struct {
		stream  string
		version int64
	}
	produced := make(map[streamVersion]int64, len(rows))
	for i, r := range rows {
		if r.Version > 0 {
			produced[streamVersion{r.Stream, r.Version}] = first + int64(i)
		}
	}
	for _, st := range states {
		seq, ok := produced[streamVersion{st.Stream, st.Version}]
		if !ok {
			err := tx.QueryRowContext(ctx, `SELECT seq FROM event WHERE stream = ? AND version = ?`, st.Stream, st.Version).Scan(&seq)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("state %s version %d: no event row holds that version", st.Stream, st.Version)
			}
			if err != nil {
				return mapErr(fmt.Sprintf("state %s", st.Stream), err)
			}
		}
		if _, err := stmt.ExecContext(ctx, seq, st.Stream, st.Version, string(st.State), st.Time.UTC().Format(time.RFC3339Nano)); err != nil {
			return mapErr(fmt.Sprintf("state %s", st.Stream), err)
		}
	}
	return nil
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
