package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

const rowColumns = `seq, stream, coalesce(version, 0), command_id, command, data, outcome, events, result, coalesce(idempotency_key, ''), coalesce(correlation_id, ''), time`

// LatestState returns the newest state log entry of stream; ok is false if there is none.
// It reads on the write connection, so it sees everything the writer committed.
func (s *Store) LatestState(ctx context.Context, stream string) (st State, ok bool, err error) {
	var ts, doc string
	err = s.w.QueryRowContext(ctx, `SELECT st.stream, st.version, st.state, st.time FROM state st
		WHERE st.seq = (SELECT seq FROM event WHERE stream = ? AND version IS NOT NULL ORDER BY version DESC LIMIT 1)`, stream).
		Scan(&st.Stream, &st.Version, &doc, &ts)
	st.State = json.RawMessage(doc)
	if errors.Is(err, sql.ErrNoRows) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, mapErr("latest state", err)
	}
	st.Time, _ = time.Parse(time.RFC3339Nano, ts)
	return st, true, nil
}

// FindIdempotent returns the row of stream recorded with key; ok is false if there is none.
// It reads on the write connection.
func (s *Store) FindIdempotent(ctx context.Context, stream, key string) (Row, bool, error) {
	rows, err := scanRows(s.w.QueryContext(ctx, `SELECT `+rowColumns+` FROM event WHERE stream = ? AND idempotency_key = ?`, stream, key))
	if err != nil || len(rows) == 0 {
		return Row{}, false, err
	}
	return rows[0], true, nil
}

// RowsAfter returns up to limit rows with seq > after, in order. Safe for concurrent use.
func (s *Store) RowsAfter(ctx context.Context, after int64, limit int) ([]Row, error) {
	return scanRows(s.r.QueryContext(ctx, `SELECT `+rowColumns+` FROM event WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit))
}

// StreamRows returns up to limit accepted rows of stream with version > after, in order.
// Safe for concurrent use.
func (s *Store) StreamRows(ctx context.Context, stream string, after int64, limit int) ([]Row, error) {
	return scanRows(s.r.QueryContext(ctx, `SELECT `+rowColumns+` FROM event WHERE stream = ? AND version > ? ORDER BY version LIMIT ?`, stream, after, limit))
}

// PublishedSeq returns the outbox cursor: rows up to it have been published.
func (s *Store) PublishedSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT published_seq FROM outbox WHERE name = 'events'`).Scan(&seq)
	return seq, mapErr("outbox cursor", err)
}

// LastSeq returns the seq of the newest row (0 if empty). Not safe for concurrent use
// with Append.
func (s *Store) LastSeq() int64 { return s.nextSeq - 1 }

// ForEachLatestState calls fn with the newest state of every stream with an accepted
// row among the rows with seq <= upTo (math.MaxInt64: all), whatever was appended since,
// in stream order (State nil if that version has no state row).
// Safe for concurrent use.
func (s *Store) ForEachLatestState(ctx context.Context, upTo int64, fn func(State) error) error {
	rows, err := s.r.QueryContext(ctx, latestStates("AND seq <= ? GROUP BY stream"), upTo)
	if err != nil {
		return mapErr("latest states", err)
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanLatest(rows)
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
	}
	return mapErr("latest states", rows.Err())
}

func scanRows(rows *sql.Rows, err error) ([]Row, error) {
	if err != nil {
		return nil, mapErr("query events", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var data, events, result, ts string
		if err := rows.Scan(&r.Seq, &r.Stream, &r.Version, &r.CommandID, &r.Command, &data, &r.Outcome, &events, &result, &r.IdempotencyKey, &r.CorrelationID, &ts); err != nil {
			return nil, mapErr("scan event", err)
		}
		r.Data, r.Events, r.Result = []byte(data), []byte(events), []byte(result)
		r.Time, _ = time.Parse(time.RFC3339Nano, ts)
		out = append(out, r)
	}
	return out, mapErr("query events", rows.Err())
}

// LatestStates returns the newest state of up to limit streams named after after (""
// for the first), in stream order: a page of ForEachLatestState. Safe for concurrent use.
func (s *Store) LatestStates(ctx context.Context, after string, limit int) ([]State, error) {
	rows, err := s.r.QueryContext(ctx, latestStates("AND stream > ? GROUP BY stream ORDER BY stream LIMIT ?"), after, limit)
	if err != nil {
		return nil, mapErr("latest states", err)
	}
	defer rows.Close()
	var out []State
	for rows.Next() {
		st, err := scanLatest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, mapErr("latest states", rows.Err())
}

// latestStates is the query of the newest state of each stream, in stream order; rest
// continues the inner WHERE and groups by stream. The newest version of a stream and the
// seq of its event row come from the event table's (stream, version) index alone (the
// bare seq beside max() is the seq of the row holding the max); the state row with that
// seq holds the state. A stream whose newest version has no state row (which Append never
// writes) comes with a nil State.
func latestStates(rest string) string {
	return `SELECT newest.stream, newest.version, st.state
		FROM (SELECT stream, max(version) AS version, seq FROM event WHERE version IS NOT NULL ` + rest + `) newest
		LEFT JOIN state st ON st.seq = newest.seq
		ORDER BY newest.stream`
}

func scanLatest(rows *sql.Rows) (State, error) {
	var st State
	var doc sql.NullString
	if err := rows.Scan(&st.Stream, &st.Version, &doc); err != nil {
		return st, mapErr("scan state", err)
	}
	if doc.Valid {
		st.State = json.RawMessage(doc.String)
	}
	return st, nil
}
