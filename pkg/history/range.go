package history

import (
	"bytes"
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
// in a buffer reused for the next one, and returns how many it read. It reads two
// columns a row and serves each envelope as stored, but one its upcasters bring to a
// newer version: that one is decoded, upcast and encoded again.
func (s *Store) RangeJSON(ctx context.Context, after, upto int64, prefix string, limit int, each func(position int64, typ string, envelope []byte) error) (int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT position, envelope`+rangeWhere, after, upto, prefix, limit)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var position int64
	var envelope sql.RawBytes
	var l liner
	n := 0
	for rows.Next() {
		if err := rows.Scan(&position, &envelope); err != nil {
			return n, err
		}
		typ, line := l.line(s.up, envelope)
		if err := each(position, typ, line); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// liner turns the stored envelopes RangeJSON reads into the lines it serves.
type liner struct {
	types, domains names
	buf            []byte
}

// line returns the type of the stored envelope b and its line: b, or b upcast through up
// (decoded, upcast, encoded again in l.buf) if up has a newer version of its type. An
// envelope that cannot be upcast (or decoded) is served as stored.
func (l *liner) line(up *event.Upcasters, b []byte) (string, []byte) {
	stream, typ, schema, ok := envelopeHead(b)
	if ok {
		t := l.types.name(typ)
		if up == nil || up.Current(l.domains.name(domainOf(stream)), t) == max(schema, 1) {
			return t, b
		}
	}
	e, err := event.Decode(b, nil)
	if err != nil {
		return l.types.name(typ), b
	}
	if stored := e.Schema; up.Upcast(&e) != nil || e.Schema == stored {
		return e.Type, b
	}
	l.buf = appendEnvelope(l.buf[:0], &e)
	return e.Type, l.buf
}

// domainOf is event.DomainOf of a stream's bytes.
func domainOf(stream []byte) []byte {
	if i := bytes.IndexByte(stream, '.'); i >= 0 {
		return stream[:i]
	}
	return stream
}

// names interns the strings of a few distinct values (event types, domains), read
// again and again.
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
