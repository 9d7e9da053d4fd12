package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Timer is a timer of an entity (aggregate.Timer as stored): at At the writer runs
// Command with Data on Stream, once. Fired is set in the transaction that records the
// firing.
type Timer struct {
	Stream  string
	Key     string
	At      time.Time
	Command string
	Data    json.RawMessage
	Fired   bool
}

// TimerChange writes the timer Stream/Key (an insert or a replace), or deletes it.
type TimerChange struct {
	Timer
	Delete bool
}

// Batch is what one Commit writes.
type Batch struct {
	Rows         []Row         // event log rows; Commit assigns their Seq
	States       []State       // state log entries
	Timers       []TimerChange // timers to write or delete
	PublishedSeq int64         // the outbox cursor, if > 0
}

// TimersAsOf returns every stored timer and the seq of the newest event row, read in one
// transaction: the timers as of that row.
func (s *Store) TimersAsOf(ctx context.Context) (last int64, timers []Timer, err error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, mapErr("read timers", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM event`).Scan(&last); err != nil {
		return 0, nil, mapErr("max seq", err)
	}
	err = readTimers(ctx, tx, func(t Timer) error {
		timers = append(timers, t)
		return nil
	})
	return last, timers, err
}

// Timers calls fn with every stored timer, fired or not, in (stream, key) order.
func (s *Store) Timers(ctx context.Context, fn func(Timer) error) error {
	return readTimers(ctx, s.r, fn)
}

func readTimers(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, fn func(Timer) error) error {
	rows, err := q.QueryContext(ctx, `SELECT stream, key, at, command, data, fired FROM timer ORDER BY stream, key`)
	if err != nil {
		return mapErr("read timers", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t Timer
		var at int64
		var data string
		if err := rows.Scan(&t.Stream, &t.Key, &at, &t.Command, &data, &t.Fired); err != nil {
			return mapErr("read timers", err)
		}
		t.At, t.Data = time.Unix(0, at).UTC(), json.RawMessage(data)
		if err := fn(t); err != nil {
			return err
		}
	}
	return mapErr("read timers", rows.Err())
}

func changeTimers(ctx context.Context, tx *sql.Tx, changes []TimerChange) error {
	if len(changes) == 0 {
		return nil
	}
	var set, del *sql.Stmt
	for _, c := range changes {
		var err error
		if c.Delete {
			if del == nil {
				if del, err = tx.PrepareContext(ctx, `DELETE FROM timer WHERE stream = ? AND key = ?`); err != nil {
					return mapErr("timers", err)
				}
				defer del.Close()
			}
			_, err = del.ExecContext(ctx, c.Stream, c.Key)
		} else {
			if set == nil {
				if set, err = tx.PrepareContext(ctx, `INSERT OR REPLACE INTO timer (stream, key, at, command, data, fired) VALUES (?,?,?,?,?,?)`); err != nil {
					return mapErr("timers", err)
				}
				defer set.Close()
			}
			_, err = set.ExecContext(ctx, c.Stream, c.Key, c.At.UnixNano(), c.Command, string(c.Data), c.Fired)
		}
		if err != nil {
			return mapErr(fmt.Sprintf("timer %s of %s", c.Key, c.Stream), err)
		}
	}
	return nil
}
