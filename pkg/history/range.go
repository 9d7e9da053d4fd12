package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"
)

// Newest returns the newest position in the history (0 if it is empty).
func (s *Store) Newest(ctx context.Context) (int64, error) {
	var newest int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM history`).Scan(&newest)
	return newest, err
}

// Range returns up to limit entries with after < position <= upto whose stream starts
// with prefix ("" for all), oldest first, upcast (UseUpcasters).
func (s *Store) Range(ctx context.Context, after, upto int64, prefix string, limit int) ([]Entry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT position, event_id, stream, version, type, data, command_id, coalesce(correlation_id, ''), coalesce(causation_id, ''), time, coalesce(schema, 0)
		FROM history WHERE position > ?1 AND position <= ?2 AND (?3 = '' OR substr(stream, 1, length(?3)) = ?3) ORDER BY position LIMIT ?4`,
		after, upto, prefix, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var data, ts string
		if err := rows.Scan(&e.Position, &e.ID, &e.Stream, &e.Version, &e.Type, &data, &e.CommandID, &e.CorrelationID, &e.CausationID, &ts, &e.Schema); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		e.Time, _ = time.Parse(time.RFC3339Nano, ts)
		s.up.Upcast(&e.Envelope) //nolint:errcheck // one it cannot upcast is served as stored
		out = append(out, e)
	}
	return out, rows.Err()
}

// RangeJSON is Range for streaming: it calls each with the position, type and envelope
// JSON (one line, as json.Marshal of the Envelope would write it, upcast) of every entry,
// in a buffer reused for the next one, and returns how many it read.
func (s *Store) RangeJSON(ctx context.Context, after, upto int64, prefix string, limit int, each func(position int64, typ string, envelope []byte) error) (int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT position, event_id, stream, version, type, data, command_id, coalesce(correlation_id, ''), coalesce(causation_id, ''), time, coalesce(schema, 0)
		FROM history WHERE position > ?1 AND position <= ?2 AND (?3 = '' OR substr(stream, 1, length(?3)) = ?3) ORDER BY position LIMIT ?4`,
		after, upto, prefix, limit)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var id, stream, typ, data, command, correlation, causation, ts sql.RawBytes
	var position, version int64
	var schema int
	buf := make([]byte, 0, 1024)
	n := 0
	for rows.Next() {
		if err := rows.Scan(&position, &id, &stream, &version, &typ, &data, &command, &correlation, &causation, &ts, &schema); err != nil {
			return n, err
		}
		t := string(typ)
		up, upSchema := json.RawMessage(data), schema
		if s.up != nil {
			if d, v, err := s.up.UpcastData(string(stream), t, schema, up); err == nil { // else served as stored
				up, upSchema = d, v
			}
		}
		buf = append(buf[:0], `{"id":`...)
		buf = appendString(buf, id)
		buf = append(buf, `,"stream":`...)
		buf = appendString(buf, stream)
		buf = append(buf, `,"version":`...)
		buf = strconv.AppendInt(buf, version, 10)
		buf = append(buf, `,"type":`...)
		buf = appendString(buf, typ)
		buf = append(buf, `,"data":`...)
		buf = appendCompact(buf, up)
		buf = append(buf, `,"command_id":`...)
		buf = appendString(buf, command)
		if len(correlation) > 0 {
			buf = append(buf, `,"correlation_id":`...)
			buf = appendString(buf, correlation)
		}
		if len(causation) > 0 {
			buf = append(buf, `,"causation_id":`...)
			buf = appendString(buf, causation)
		}
		buf = append(buf, `,"time":`...)
		buf = appendString(buf, ts)
		if upSchema > 1 {
			buf = append(buf, `,"schema":`...)
			buf = strconv.AppendInt(buf, int64(upSchema), 10)
		}
		buf = append(buf, '}')
		if err := each(position, t, buf); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// appendString appends s as a JSON string: as is when it needs no escaping (ids, stream
// names, types, times), else as encoding/json writes it.
func appendString(buf, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(string(s))
			return append(buf, q...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// appendCompact appends the JSON value data on one line.
func appendCompact(buf, data []byte) []byte {
	if bytes.IndexAny(data, "\n\r") < 0 {
		return append(buf, data...)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return append(buf, "null"...)
	}
	return append(buf, b.Bytes()...)
}
