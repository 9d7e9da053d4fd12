package history

import (
	"context"
	"database/sql"
	"fmt"

	"uneventful.dev/uneventful/pkg/event"
)

// Newest returns the newest position in the history (0 if it is empty).
func (s *Store) Newest(ctx context.Context) (int64, error) {
	var newest int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM history`).Scan(&newest)
	return newest, err
}

// rangeWhere selects the rows with ?1 < position <= ?2 whose stream starts with ?3 (""
// for all), oldest first, at most ?4.
const rangeWhere = ` FROM history WHERE position > ?1 AND position <= ?2 AND (?3 = '' OR substr(stream, 1, length(?3)) = ?3) ORDER BY position LIMIT ?4`

// Range returns up to limit entries with after < position <= upto whose stream starts
// with prefix ("" for all), oldest first, upcast (UseUpcasters).
func (s *Store) Range(ctx context.Context, after, upto int64, prefix string, limit int) ([]Entry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT position, envelope`+rangeWhere, after, upto, prefix, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var envelope []byte // the entry's own: e.Data is a slice of it
		if err := rows.Scan(&e.Position, &envelope); err != nil {
			return nil, err
		}
		if e.Envelope, err = event.Decode(envelope, nil); err != nil {
			return nil, fmt.Errorf("history: the envelope at position %d: %w", e.Position, err)
		}
		s.up.Upcast(&e.Envelope) //nolint:errcheck // one it cannot upcast is served as stored
		out = append(out, e)
	}
	return out, rows.Err()
}

// RangeJSON is Range for streaming: it calls each with the position, type and envelope
// JSON (one line, as json.Marshal of the Envelope would write it, upcast) of every entry,
// in a buffer reused for the next one, and returns how many it read. It serves each
// envelope as stored, but one its upcasters bring to a newer version: that one is
// decoded, upcast and encoded again.
func (s *Store) RangeJSON(ctx context.Context, after, upto int64, prefix string, limit int, each func(position int64, typ string, envelope []byte) error) (int, error) {
	var position int64
	var typ, envelope, stream sql.RawBytes
	var schema int
	columns, dest := `SELECT position, type, envelope`, []any{&position, &typ, &envelope}
	if s.up != nil { // what deciding whether an event needs upcasting takes
		columns, dest = columns+`, stream, coalesce(schema, 0)`, append(dest, &stream, &schema)
	}
	rows, err := s.r.QueryContext(ctx, columns+rangeWhere, after, upto, prefix, limit)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var types names
	var buf []byte
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		t := types.name(typ)
		line := []byte(envelope)
		if s.up != nil && s.up.Current(event.DomainOf(string(stream)), t) != max(schema, 1) {
			if e, err := event.Decode(envelope, s.up); err == nil { // else served as stored
				buf = appendEnvelope(buf[:0], &e)
				line = buf
			}
		}
		if err := each(position, t, line); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// names interns the strings of a few distinct values (event types), read again and again.
type names map[string]string

func (m *names) name(b []byte) string {
	if s, ok := (*m)[string(b)]; ok {
		return s
	}
	if *m == nil {
		*m = names{}
	}
	s := string(b)
	(*m)[s] = s
	return s
}
