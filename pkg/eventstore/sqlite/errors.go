package sqlite

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"uneventful.dev/uneventful/pkg/failure"
)

// The failures the store returns, classified by SQLite's result code (never by the
// message's text). Compare with errors.Is; the message of each occurrence says more.
var (
	// ErrUnavailable: the file is locked by another process (beyond the busy timeout),
	// the disk is full, read-only or failing, or the file cannot be opened. Nothing was
	// written; retry later.
	ErrUnavailable = failure.New(failure.Unavailable, "store_unavailable", "the event store is unavailable; retry later")
	// ErrConflict: a UNIQUE constraint refused the write, e.g. a second writer appended
	// the same (stream, version).
	ErrConflict = failure.New(failure.Conflict, "version_conflict", "another write reached the event store first")
	// ErrCorrupt: the file is not a database or its pages are damaged.
	ErrCorrupt = failure.New(failure.Internal, "store_corrupt", "the event store file is damaged or not a database")
)

// classify returns the failure an SQLite error stands for, or nil for an error it does
// not classify (a bug in a statement, a cancelled context, ...).
func classify(err error) *failure.Error {
	var coded interface{ Code() int } // *sqlite.Error, *resultError
	if !errors.As(err, &coded) {
		return nil
	}
	code := coded.Code()
	switch code & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return ErrUnavailable
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return ErrCorrupt
	case sqlite3.SQLITE_CONSTRAINT:
		if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return ErrConflict
		}
	}
	return nil
}

// resultError is an error of SQLite's C API called directly (LogReader), with its
// result code as *sqlite.Error has it.
type resultError struct {
	msg  string
	code int
}

func (e *resultError) Error() string { return e.msg }

// Code returns the SQLite result code.
func (e *resultError) Code() int { return e.code }

var _ interface{ Code() int } = (*sqlite.Error)(nil)

// mapErr returns err, from doing what, as the failure its SQLite result code stands for,
// so that callers answer "retry later" instead of wedging or reporting a bug. Errors it
// does not classify are wrapped with what.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		return err
	}
	if sentinel := classify(err); sentinel != nil {
		return sentinel.Withf("%s: %v", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
