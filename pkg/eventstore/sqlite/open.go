package sqlite

import (
	"database/sql"
	"time"

	"uneventful.dev/uneventful/pkg/sqlitedb"
)

// Options tune how the store's database file is opened (see sqlitedb.Options). A
// statement that waits longer than BusyTimeout for a lock fails with failure.Unavailable;
// a writer that answers clients sets WriteBusyTimeout to CommitBusyTimeout.
type Options = sqlitedb.Options

// CommitBusyTimeout is the write lock wait for a writer answering clients. While another
// process holds the write lock, a batch waits this long, then fails Unavailable with
// nothing written, so a command is answered 503 within about twice this (the batch it
// queued behind, then its own) instead of after seconds; the next batch tries again, so
// the writer commits as soon as the lock is free. SQLite's busy handler retries within
// the wait (after 1, 2, 5, 10, ... ms), so a lock held briefly in ordinary operation (a
// checkpoint or a short write by another process) costs a few milliseconds, not a 503.
// Readers never hold the write lock (WAL), and the store's own checkpoints are PASSIVE.
const CommitBusyTimeout = 100 * time.Millisecond

// OpenDB opens path as sqlitedb.Open does, its errors in the store's vocabulary (a file
// that cannot be opened is failure.Unavailable).
func OpenDB(path string, readOnly bool, o Options) (*sql.DB, error) {
	db, err := sqlitedb.Open(path, readOnly, o)
	if err != nil {
		return nil, mapErr("store", err)
	}
	return db, nil
}
