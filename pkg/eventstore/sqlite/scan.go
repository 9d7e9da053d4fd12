package sqlite

import (
	"context"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"uneventful.dev/uneventful/pkg/sqlitedb"
)

// MaxSeq returns the seq of the newest row a read connection sees (0 if empty).
// Safe for concurrent use.
func (s *Store) MaxSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM event`).Scan(&seq)
	return seq, mapErr("max seq", err)
}

// A LogReader reads the event log and the state log on a connection of its own, for
// one goroutine at a time. A replay reads millions of rows, so it goes to SQLite's C API
// directly instead of through database/sql and the driver, which lock the connection
// for every column of every row, copy it and box it: the connection is read-only,
// without a mutex, and the rows are read in place.
type LogReader struct {
	c               *reader
	accepted, state uintptr // prepared statements
}

// NewLogReader opens a LogReader on the store's file. Close it after use.
func (s *Store) NewLogReader(ctx context.Context) (*LogReader, error) {
	var path string
	if err := s.r.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		return nil, mapErr("log reader", err)
	}
	c, err := openReader(path)
	if err != nil {
		return nil, mapErr("log reader", err)
	}
	r := &LogReader{c: c}
	// Rows with a version are accepted ones: the others are read to be refused.
	if r.accepted, err = c.prepare(`SELECT seq, stream, version, events, outcome FROM event
		WHERE seq > ? AND seq <= ? AND (outcome = 'accepted' OR version IS NOT NULL) ORDER BY seq`); err == nil {
		r.state, err = c.prepare(`SELECT state FROM state WHERE seq = ?`)
	}
	if err != nil {
		r.Close()
		return nil, mapErr("log reader", err)
	}
	return r, nil
}

// Close closes r.
func (r *LogReader) Close() {
	sqlite3.Xsqlite3_finalize(r.c.tls, r.accepted) // no-op on 0
	sqlite3.Xsqlite3_finalize(r.c.tls, r.state)
	r.c.close()
}

// ForEachAccepted calls fn with the seq, stream, version and events JSON of every
// accepted row with after < seq <= upTo, in seq order; stream and events are valid only
// until fn returns. A row whose outcome and version disagree (accepted without a
// version, a version without accepted) is an error. Each call reads in a transaction of
// its own.
func (r *LogReader) ForEachAccepted(ctx context.Context, after, upTo int64, fn func(seq int64, stream []byte, version int64, events []byte) error) error {
	tls, stmt := r.c.tls, r.accepted
	defer sqlite3.Xsqlite3_reset(tls, stmt) // ends the read transaction
	sqlite3.Xsqlite3_bind_int64(tls, stmt, 1, after)
	sqlite3.Xsqlite3_bind_int64(tls, stmt, 2, upTo)
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		switch rc := sqlite3.Xsqlite3_step(tls, stmt); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			return nil
		default:
			return mapErr("replay", r.c.err(rc))
		}
		seq := sqlite3.Xsqlite3_column_int64(tls, stmt, 0)
		stream := r.c.column(stmt, 1)
		if sqlite3.Xsqlite3_column_type(tls, stmt, 2) == sqlite3.SQLITE_NULL {
			return fmt.Errorf("scan event: row %d of %s is accepted without a version", seq, stream)
		}
		version := sqlite3.Xsqlite3_column_int64(tls, stmt, 2)
		if outcome := r.c.column(stmt, 4); string(outcome) != Accepted {
			return fmt.Errorf("scan event: row %d of %s is %s with version %d", seq, stream, outcome, version)
		}
		if err := fn(seq, stream, version, r.c.column(stmt, 3)); err != nil {
			return err
		}
	}
}

// StateAt returns the state log document stored under seq (the seq of the event row
// whose command produced it); ok is false if there is none. doc is valid until the next
// call on r.
func (r *LogReader) StateAt(seq int64) (doc []byte, ok bool, err error) {
	tls, stmt := r.c.tls, r.state
	sqlite3.Xsqlite3_reset(tls, stmt)
	sqlite3.Xsqlite3_bind_int64(tls, stmt, 1, seq)
	switch rc := sqlite3.Xsqlite3_step(tls, stmt); rc {
	case sqlite3.SQLITE_ROW:
		return r.c.column(stmt, 0), true, nil
	case sqlite3.SQLITE_DONE:
		return nil, false, nil
	default:
		return nil, false, mapErr("state", r.c.err(rc))
	}
}

// reader is a read-only connection used through SQLite's C API, by one goroutine.
type reader struct {
	tls *libc.TLS
	db  uintptr
}

const pointerSize = int(unsafe.Sizeof(uintptr(0)))

func openReader(path string) (*reader, error) {
	c := &reader{tls: libc.NewTLS()}
	name, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	out := c.tls.Alloc(pointerSize)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, out, sqlite3.SQLITE_OPEN_READONLY|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = cPointer(out)
	c.tls.Free(pointerSize)
	libc.Xfree(c.tls, name)
	if rc == sqlite3.SQLITE_OK {
		rc = sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, int32(sqlitedb.DefaultBusyTimeout.Milliseconds()))
	}
	if rc == sqlite3.SQLITE_OK {
		rc = c.exec("PRAGMA mmap_size = 1073741824") // as the store's readers: pages read in place
	}
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *reader) exec(sql string) int32 {
	s, err := libc.CString(sql)
	if err != nil {
		return sqlite3.SQLITE_NOMEM
	}
	defer libc.Xfree(c.tls, s)
	return sqlite3.Xsqlite3_exec(c.tls, c.db, s, 0, 0, 0)
}

func (c *reader) prepare(sql string) (uintptr, error) {
	s, err := libc.CString(sql)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, s)
	out := c.tls.Alloc(pointerSize)
	defer c.tls.Free(pointerSize)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, s, -1, out, 0); rc != sqlite3.SQLITE_OK {
		return 0, c.err(rc)
	}
	return cPointer(out), nil
}

// column returns column i of the current row of stmt, in place: valid until the next
// step, reset or finalize of stmt.
func (c *reader) column(stmt uintptr, i int32) []byte {
	p := sqlite3.Xsqlite3_column_blob(c.tls, stmt, i)
	return libc.GoBytes(p, int(sqlite3.Xsqlite3_column_bytes(c.tls, stmt, i)))
}

func (c *reader) err(rc int32) error {
	if c.db == 0 {
		return &resultError{fmt.Sprintf("%s (%d)", libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc)), rc), int(rc)}
	}
	return &resultError{fmt.Sprintf("%s (%d)", libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)), rc), int(rc)}
}

func (c *reader) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
	}
	c.tls.Close()
}

// cPointer returns the pointer C code stored at p.
func cPointer(p uintptr) uintptr {
	return *(*uintptr)(unsafe.Pointer(unsafe.SliceData(libc.GoBytes(p, pointerSize))))
}
