package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"

	"uneventful.dev/uneventful/pkg/failure"
)

// rawDB opens path with database/sql and no busy timeout.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestClassifyByResultCode: real SQLite errors are classified by their result code; the
// classification does not depend on the message.
func TestClassifyByResultCode(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		provoke  func(t *testing.T) error
		code     int // the primary result code SQLite gave
		sentinel *failure.Error
	}{
		{"busy", func(t *testing.T) error {
			path := filepath.Join(dir, "busy.db")
			a, b := rawDB(t, path), rawDB(t, path)
			mustExec(t, a, `PRAGMA journal_mode=wal`)
			mustExec(t, a, `CREATE TABLE x (v)`)
			conn, err := a.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.ExecContext(context.Background(), `ROLLBACK`); conn.Close() }) //nolint:errcheck
			if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
				t.Fatal(err)
			}
			_, err = b.Exec(`INSERT INTO x VALUES (1)`)
			return err
		}, sqlite3.SQLITE_BUSY, ErrUnavailable},
		{"full", func(t *testing.T) error {
			db := rawDB(t, filepath.Join(dir, "full.db"))
			mustExec(t, db, `CREATE TABLE x (v)`)
			mustExec(t, db, `PRAGMA max_page_count=8`)
			_, err := db.Exec(`INSERT INTO x VALUES (zeroblob(1000000))`)
			return err
		}, sqlite3.SQLITE_FULL, ErrUnavailable},
		{"corrupt page", func(t *testing.T) error {
			path := filepath.Join(dir, "corrupt.db")
			db := rawDB(t, path)
			mustExec(t, db, `CREATE TABLE x (v)`)
			mustExec(t, db, `INSERT INTO x VALUES (randomblob(20000))`)
			db.Close()
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			garbage := []byte(strings.Repeat("\xff", 4096))
			if _, err := f.WriteAt(garbage, 4096); err != nil { // page 2: the table's root
				t.Fatal(err)
			}
			f.Close()
			_, err = rawDB(t, path).Exec(`SELECT count(*), sum(length(v)) FROM x`)
			return err
		}, sqlite3.SQLITE_CORRUPT, ErrCorrupt},
		{"not a database", func(t *testing.T) error {
			path := filepath.Join(dir, "text.db")
			if err := os.WriteFile(path, []byte(strings.Repeat("this is not a database\n", 400)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := rawDB(t, path).Exec(`SELECT * FROM sqlite_master`)
			return err
		}, sqlite3.SQLITE_NOTADB, ErrCorrupt},
		{"unique", func(t *testing.T) error {
			db := rawDB(t, filepath.Join(dir, "unique.db"))
			mustExec(t, db, `CREATE TABLE x (v UNIQUE)`)
			mustExec(t, db, `INSERT INTO x VALUES (1)`)
			_, err := db.Exec(`INSERT INTO x VALUES (1)`)
			return err
		}, sqlite3.SQLITE_CONSTRAINT, ErrConflict},
		{"not null is no conflict", func(t *testing.T) error {
			db := rawDB(t, filepath.Join(dir, "notnull.db"))
			mustExec(t, db, `CREATE TABLE x (v NOT NULL)`)
			_, err := db.Exec(`INSERT INTO x VALUES (NULL)`)
			return err
		}, sqlite3.SQLITE_CONSTRAINT, nil},
		{"a bug in a statement is not classified", func(t *testing.T) error {
			_, err := rawDB(t, filepath.Join(dir, "syntax.db")).Exec(`SELEC 1`)
			return err
		}, sqlite3.SQLITE_ERROR, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.provoke(t)
			var coded interface{ Code() int }
			if !errors.As(err, &coded) || coded.Code()&0xff != tc.code {
				t.Fatalf("provoked %v, want result code %d", err, tc.code)
			}
			if got := classify(err); got != tc.sentinel {
				t.Fatalf("classify(%v) = %v, want %v", err, got, tc.sentinel)
			}
			mapped := mapErr("doing it", err)
			if tc.sentinel != nil && (!errors.Is(mapped, tc.sentinel) || !strings.HasPrefix(failure.From(mapped).Message, "doing it: ")) {
				t.Fatalf("mapErr = %v, want %v with the occurrence in its message", mapped, tc.sentinel)
			}
			if tc.sentinel == nil && failure.KindOf(mapped) != failure.Internal {
				t.Fatalf("mapErr = %v (kind %s), want an unclassified error", mapped, failure.KindOf(mapped))
			}
			// the same code with another message is classified the same
			if got := classify(&resultError{msg: "something else entirely", code: coded.Code()}); got != tc.sentinel {
				t.Fatalf("classify by code alone = %v, want %v", got, tc.sentinel)
			}
		})
	}
}
