package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

// openStore opens a store in a fresh temp dir and closes it at cleanup.
func openStore(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "events.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// accepted returns an accepted row of stream at version with one event.
func accepted(stream string, version int64, key string) sqlite.Row {
	ev := fmt.Sprintf(`[{"id":"e-%s-%d","stream":%q,"version":%d,"type":"credited","data":{"amount":"1.00"}}]`, stream, version, stream, version)
	return sqlite.Row{Stream: stream, Version: version, CommandID: fmt.Sprintf("c-%s-%d", stream, version), Command: "credit",
		Data: json.RawMessage(`{"amount":"1.00"}`), Outcome: sqlite.Accepted, Events: json.RawMessage(ev),
		Result: json.RawMessage(fmt.Sprintf(`{"version":%d}`, version)), IdempotencyKey: key, CorrelationID: "corr", Time: t0}
}

// rejected returns a rejected row of stream (no version, no events).
func rejected(stream, commandID string) sqlite.Row {
	return sqlite.Row{Stream: stream, CommandID: commandID, Command: "debit", Data: json.RawMessage(`{"amount":"9.00"}`),
		Outcome: sqlite.Rejected, Events: json.RawMessage(`[]`), Result: json.RawMessage(`{"error":{}}`), Time: t0}
}

func state(stream string, version int64) sqlite.State {
	return sqlite.State{Stream: stream, Version: version, State: json.RawMessage(fmt.Sprintf(`{"version":%d}`, version)), Time: t0}
}

func mustAppend(t *testing.T, s *sqlite.Store, rows []sqlite.Row, states []sqlite.State, published int64) {
	t.Helper()
	if err := s.Append(context.Background(), rows, states, published); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

func allRows(t *testing.T, s *sqlite.Store) []sqlite.Row {
	t.Helper()
	rows, err := s.RowsAfter(context.Background(), 0, 1_000_000)
	if err != nil {
		t.Fatalf("RowsAfter: %v", err)
	}
	return rows
}

func seqs(rows []sqlite.Row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Seq
	}
	return out
}
