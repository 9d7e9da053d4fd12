package history_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/sqlitedb"
)

// oldRow is a row of the history before its envelope column (migrations 0001 and 0002).
type oldRow struct {
	id, stream     string
	version        int64
	typ, data, cmd string
	corr, caus     sql.NullString
	time           string
	schema         sql.NullInt64
	plain          bool // strings that need no escaping, data on one line
}

// oldRows: the rows this project writes (plain) and rows it never writes but an old
// history could hold (escapes, data over lines, an empty correlation id, empty data).
var oldRows = []oldRow{
	{id: "e1", stream: "wallet.2d52QD8yWLjklH58uNZu6AAPqTK", version: 1, typ: "credited", data: `{"amount_cents":1000,"balance_cents":1000}`,
		cmd: "c1", caus: sql.NullString{String: "c1", Valid: true}, time: "2025-01-02T03:04:05.123456789Z", plain: true},
	{id: "e2", stream: "session.x", version: 1, typ: "opened", data: `{"user":"u"}`, cmd: "c2",
		corr: sql.NullString{String: "k", Valid: true}, time: "2025-01-02T03:04:06Z", plain: true},
	{id: "e3", stream: "lock.y", version: 3, typ: "taken", data: `{"v":{"units":1}}`, cmd: "c3", time: "2025-01-02T03:04:07.5Z",
		schema: sql.NullInt64{Int64: 3, Valid: true}, plain: true},
	{id: "e4", stream: `odd.<"é">`, version: 1, typ: `odd "type" <&>`, data: "{\n\"a\": [1, 2]\n}", cmd: "c\\4",
		corr: sql.NullString{Valid: true}, caus: sql.NullString{String: "tab\there", Valid: true}, time: "2025-01-02T03:04:08Z"},
	// empty data: the old RangeJSON served an invalid line ("data":,); now data is null
	{id: "e5", stream: "wallet.x", version: 2, typ: "noted", data: "", cmd: "c5", time: "2025-01-02T03:04:09Z"},
}

// writeOldHistory writes rows into a history at path made by migrations 0001 and 0002
// only, as a history before the envelope column.
func writeOldHistory(t *testing.T, path string, rows []oldRow) {
	t.Helper()
	ctx := context.Background()
	files := fstest.MapFS{}
	for _, name := range []string{"0001_init.sql", "0002_schema.sql"} {
		b, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		files["migrations/"+name] = &fstest.MapFile{Data: b}
	}
	db, err := sqlitedb.Open(path, false, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlitedb.Migrate(ctx, db, files); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := db.ExecContext(ctx, `INSERT INTO history (recorded, event_id, stream, version, type, data, command_id, correlation_id, causation_id, time, schema)
			VALUES ('2025-01-02T03:05:00Z', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, r.stream, r.version, r.typ, r.data, r.cmd, r.corr, r.caus, r.time, r.schema); err != nil {
			t.Fatal(err)
		}
	}
}

// envelope is the event of an old row, as the history served it before the envelope
// column: json.Marshal of this is the line RangeJSON wrote for it.
func (r oldRow) envelope(t *testing.T) event.Envelope {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, r.time)
	if err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	if r.data == "" {
		data.WriteString("null")
	} else if err := json.Compact(&data, []byte(r.data)); err != nil {
		t.Fatal(err)
	}
	return event.Envelope{ID: r.id, Stream: r.stream, Version: r.version, Type: r.typ, Data: data.Bytes(), CommandID: r.cmd,
		CorrelationID: r.corr.String, CausationID: r.caus.String, Time: ts, Schema: int(r.schema.Int64)}
}

// TestMigratesOldRows: a history written before the envelope column, opened by this
// Store, serves the same events. RangeJSON's lines are byte for byte what it served
// before for the rows this project writes (plain strings, data on one line); for the
// others the migration quotes strings with SQLite's json_quote, which leaves <, > and &
// as they are where encoding/json writes \u003c..., so those are compared decoded: the
// same envelope. Range gives the same envelopes, data compacted.
func TestMigratesOldRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	writeOldHistory(t, path, oldRows)
	s := openAt(t, path, nil)
	ctx := context.Background()
	i := 0
	n, err := s.RangeJSON(ctx, 0, 10, "", 10, func(position int64, typ string, line []byte) error {
		r := oldRows[i]
		want := r.envelope(t)
		if position != int64(i+1) || typ != r.typ {
			t.Errorf("row %d: position %d, type %q", i+1, position, typ)
		}
		if r.plain {
			if b, _ := json.Marshal(want); string(line) != string(b) {
				t.Errorf("row %d:\n got %s\nwant %s", i+1, line, b)
			}
		} else if got, err := event.Decode(line, nil); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("row %d: %s decodes as %+v, %v\nwant %+v", i+1, line, got, err, want)
		}
		i++
		return nil
	})
	if err != nil || n != len(oldRows) {
		t.Fatalf("RangeJSON: %d rows, %v", n, err)
	}
	entries, err := s.Range(ctx, 0, 10, "", 10)
	if err != nil || len(entries) != len(oldRows) {
		t.Fatalf("Range: %d entries, %v", len(entries), err)
	}
	for i, e := range entries {
		if want := oldRows[i].envelope(t); e.Position != int64(i+1) || !reflect.DeepEqual(e.Envelope, want) {
			t.Errorf("Range entry %d: %+v\nwant %+v", i+1, e.Envelope, want)
		}
	}
	if got, err := s.Range(ctx, 0, 10, "odd.", 10); err != nil || len(got) != 1 || got[0].ID != "e4" {
		t.Fatalf("Range of prefix odd.: %+v, %v", got, err)
	}
	if n, err := s.Append(ctx, []event.Envelope{oldRows[0].envelope(t)}); err != nil || n != 0 {
		t.Fatalf("Append of a migrated event again: %d new, %v; want it skipped", n, err)
	}
}

// TestUpcastsMigratedRows: an old row whose type has an upcaster is served upcast (the
// decode, upcast, encode path of RangeJSON), as json.Marshal writes the upcast envelope;
// the others as stored.
func TestUpcastsMigratedRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	writeOldHistory(t, path, oldRows)
	up := walletUpcasters(t)
	s := openAt(t, path, up)
	want := make([]event.Envelope, len(oldRows))
	for i, r := range oldRows {
		want[i] = r.envelope(t)
	}
	if err := up.Upcast(&want[0]); err != nil || want[0].Schema != 2 {
		t.Fatalf("the wallet's upcaster: %+v, %v", want[0], err)
	}
	i := 0
	if _, err := s.RangeJSON(context.Background(), 0, 10, "", 10, func(_ int64, _ string, line []byte) error {
		if b, _ := json.Marshal(want[i]); oldRows[i].plain && string(line) != string(b) {
			t.Errorf("row %d:\n got %s\nwant %s", i+1, line, b)
		}
		i++
		return nil
	}); err != nil || i != len(oldRows) {
		t.Fatalf("RangeJSON: %d rows, %v", i, err)
	}
}
