package sqlitedb

import (
	"sync"
	"time"
)

// walAutocheckpoint is the WAL size, in pages, past which a committing connection copies
// the WAL into the database itself. Background checkpoints keep the WAL well below it, so
// commits normally never pay for a checkpoint.
const walAutocheckpoint = 16384 // 64 MiB of 4 KiB pages

// StartCheckpoints copies the WAL of path into the database every interval, from a
// connection of its own (PASSIVE: it never blocks the writer or readers), until the
// returned stop is called.
func StartCheckpoints(path string, interval time.Duration, o Options) (stop func(), err error) {
	db, err := Open(path, false, o)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`) //nolint:errcheck // the next tick retries
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			db.Close()
		})
	}, nil
}
