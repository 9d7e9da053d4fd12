package history

import (
	"context"
	"encoding/json"
	"time"
)

// Newest returns the newest position in the history (0 if it is empty).
func (s *Store) Newest(ctx context.Context) (int64, error) {
	var newest int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM history`).Scan(&newest)
	return newest, err
}

// Range returns up to limit entries with after < position <= upto whose stream starts
// with prefix ("" for all), oldest first.
func (s *Store) Range(ctx context.Context, after, upto int64, prefix string, limit int) ([]Entry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT position, event_id, stream, version, type, data, command_id, coalesce(correlation_id, ''), coalesce(causation_id, ''), time
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
		if err := rows.Scan(&e.Position, &e.ID, &e.Stream, &e.Version, &e.Type, &data, &e.CommandID, &e.CorrelationID, &e.CausationID, &ts); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		e.Time, _ = time.Parse(time.RFC3339Nano, ts)
		out = append(out, e)
	}
	return out, rows.Err()
}
