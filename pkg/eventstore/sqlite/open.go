package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/failure"
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

// mapErr turns SQLite lock and disk errors into failure.Unavailable, so that callers
// answer "retry later" instead of wedging or reporting a bug.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		return err
	}
	msg := err.Error()
	for _, s := range []string{"SQLITE_BUSY", "database is locked", "SQLITE_FULL", "disk is full", "SQLITE_READONLY", "readonly", "SQLITE_IOERR", "disk I/O error", "SQLITE_CANTOPEN", "unable to open"} {
		if strings.Contains(msg, s) {
			return failure.Newf(failure.Unavailable, "store_unavailable", "%s: %v", what, err)
		}
	}
	if strings.Contains(msg, "UNIQUE constraint failed") {
		return failure.Newf(failure.Conflict, "version_conflict", "%s: %v", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
