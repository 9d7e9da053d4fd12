package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"

	"uneventful.dev/uneventful/pkg/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the migrations of files not yet applied to db (sqlitedb.Migrate).
func Migrate(ctx context.Context, db *sql.DB, files fs.FS) error {
	return sqlitedb.Migrate(ctx, db, files)
}
