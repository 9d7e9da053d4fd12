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

// TimerSet is the whole set of timers of Stream, replacing the stored one (empty: none).
type TimerSet struct {
	Stream string
	Timers []Timer
}

// Batch is what one Commit writes.
type Batch struct {
	Rows         []Row      // event log rows; Commit assigns their Seq
	States       []State    // state log entries
	Timers       []TimerSet // timer sets to replace
	PublishedSeq int64      // the outbox cursor, if > 0
}

// Timers calls fn with every stored timer, fired or not, in (stream, key) order.
func (s *Store) Timers(ctx context.Context, fn func(Timer) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT stream, key, at, command, data, fired FROM timer ORDER BY stream, key`)
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

func replaceTimers(ctx context.Context, tx *sql.Tx, sets []TimerSet) error {
	if len(sets) == 0 {
		return nil
	}
	del, err := tx.PrepareContext(ctx, `DELETE FROM timer WHERE stream = ?`)
	if err != nil {
		return mapErr("timers", err)
	}
	defer del.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO timer (stream, key, at, command, data, fired) VALUES (?,?,?,?,?,?)`)
	if err != nil {
		return mapErr("timers", err)
	}
	defer ins.Close()
	for _, set := range sets {
		if _, err := del.ExecContext(ctx, set.Stream); err != nil {
			return mapErr(fmt.Sprintf("timers of %s", set.Stream), err)
		}
		for _, t := range set.Timers {
			if _, err := ins.ExecContext(ctx, set.Stream, t.Key, t.At.UnixNano(), t.Command, string(t.Data), t.Fired); err != nil {
				return mapErr(fmt.Sprintf("timer %s of %s", t.Key, set.Stream), err)
			}
		}
	}
	return nil
}
