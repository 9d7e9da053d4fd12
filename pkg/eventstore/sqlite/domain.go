package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// ErrOtherDomain: the file is the event log of another domain, e.g. a copied default
// path. A writer refuses it instead of failing every command.
var ErrOtherDomain = failure.New(failure.Invalid, "other_domain", "the event store belongs to another domain")

// ClaimDomain records domain as the owner of the file if none is recorded yet (a new
// file, or one made before domains were recorded whose event log holds only domain's
// entities), and otherwise checks it. A file of another domain is refused with
// ErrOtherDomain, saying which. A writer calls it at start, before it reads the log.
// Not safe for concurrent use with Append.
func (s *Store) ClaimDomain(ctx context.Context, domain string) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var recorded string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'domain'`).Scan(&recorded)
	switch {
	case err == nil && recorded == domain:
		return nil
	case err == nil:
		return ErrOtherDomain.Withf("%s is the event store of domain %q, not %q: give the %s writer its own file", s.path, recorded, domain, domain)
	case !errors.Is(err, sql.ErrNoRows):
		return mapErr("read domain", err)
	}
	var stream string
	err = tx.QueryRowContext(ctx, `SELECT stream FROM event ORDER BY seq LIMIT 1`).Scan(&stream)
	switch {
	case err == nil && !strings.HasPrefix(stream, domain+"."):
		return ErrOtherDomain.Withf("%s holds entities of another domain (%s), not %q: give the %s writer its own file", s.path, stream, domain, domain)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return mapErr("read first event", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('domain', ?)`, domain); err != nil {
		return mapErr("record domain", err)
	}
	return mapErr("commit domain", tx.Commit())
}

// Domain returns the domain recorded by ClaimDomain, "" if none. Safe for concurrent use.
func (s *Store) Domain(ctx context.Context) (string, error) {
	var d string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'domain'`).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return d, mapErr("read domain", err)
}
