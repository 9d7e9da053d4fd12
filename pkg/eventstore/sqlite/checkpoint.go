package sqlite

import (
	"time"

	"uneventful.dev/uneventful/pkg/sqlitedb"
)

// StartCheckpoints copies the WAL of path into the database every interval until the
// returned stop is called (sqlitedb.StartCheckpoints), its errors in the store's
// vocabulary.
func StartCheckpoints(path string, interval time.Duration, o Options) (stop func(), err error) {
	stop, err = sqlitedb.StartCheckpoints(path, interval, o)
	return stop, mapErr("store", err)
}
