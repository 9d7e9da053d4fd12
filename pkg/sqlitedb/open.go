// Package sqlitedb opens SQLite database files the way every store of uneventful uses
// them: WAL, synchronous=FULL, a busy timeout, one write connection with immediate
// transactions, read-only connections through mmap; and it runs embedded migrations and
// background WAL checkpoints. The event store and the history both build on it.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// DefaultBusyTimeout is how long a statement waits for a lock held by another process
// unless Options say otherwise.
const DefaultBusyTimeout = 2 * time.Second

// Options tune how a database file is opened.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another process
	// before failing. Default DefaultBusyTimeout.
	BusyTimeout time.Duration
	// WriteBusyTimeout, if set, replaces BusyTimeout on write connections: how long a
	// write transaction waits for the write lock (BEGIN IMMEDIATE) while another
	// process holds it.
	WriteBusyTimeout time.Duration
	// CacheMiB is the page cache per connection. Default 16: SQLite walks the whole cache
	// at the end of every write transaction (pcache1Truncate), so a large cache costs the
	// writer CPU on every commit (10% of it with 64 MiB), while 8 MiB no longer holds a
	// commit's working set at a million events (see BENCHMARKS.md, "SQLite page cache").
	// Readers go through mmap anyway.
	CacheMiB int
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.CacheMiB <= 0 {
		o.CacheMiB = 16
	}
	if o.WriteBusyTimeout <= 0 {
		o.WriteBusyTimeout = o.BusyTimeout
	}
	return o
}

// Open opens path with WAL, synchronous=FULL, a busy timeout and immediate
// transactions. readOnly connections refuse writes. Parent directories are created.
func Open(path string, readOnly bool, o Options) (*sql.DB, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	busy := o.BusyTimeout
	if !readOnly {
		busy = o.WriteBusyTimeout
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(full)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", o.CacheMiB*1024))
	q.Add("_pragma", "foreign_keys(on)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "mmap_size(1073741824)") // scans read through the page cache, not a syscall per page
	} else {
		q.Add("_txlock", "immediate")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutocheckpoint))
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if !readOnly {
		db.SetMaxOpenConns(1) // one writer connection: SQLite allows one writer anyway
	}
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(context.Background()); err != nil {
		db.Close()
		if !readOnly {
			// SQLite says only "unable to open database file": name the cause, such as
			// a read-only volume, where the system can tell it.
			if aerr := syscall.Access(filepath.Dir(path), 2 /* W_OK */); aerr != nil {
				err = fmt.Errorf("%w (directory %s: %v)", err, filepath.Dir(path), aerr)
			}
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}
