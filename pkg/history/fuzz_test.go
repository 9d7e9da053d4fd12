package history

import (
	"context"
	"path/filepath"
	"testing"

	"uneventful.dev/uneventful/pkg/event"
)

// FuzzEventMessage feeds arbitrary messages of the events stream through the history
// writer: a message that decodes as an event is stored (once, however often it comes)
// and served (RangeJSON) as a line that decodes as the same event, with its type;
// anything else is dropped; nothing panics.
func FuzzEventMessage(f *testing.F) {
	for _, s := range []string{
		`{"id":"e1","stream":"wallet.a","version":1,"type":"credited","data":{"amount":"1.00"},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e2","stream":"","version":-1,"type":"","data":null}`,
		`{"id":"e3","time":"not a time"}`, `{"id":""}`, `{"id":1}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	store, err := Open(context.Background(), filepath.Join(f.TempDir(), "history.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := event.Decode(b, nil)
		if err != nil {
			return
		}
		n, err := store.Append(context.Background(), []event.Envelope{e, e})
		if err != nil {
			t.Fatalf("store %s: %v", b, err)
		}
		if n == 0 { // its id was stored before
			return
		}
		schema := e.Schema // 1 and below are stored as version 1, absent
		if schema <= 1 {
			schema = 0
		}
		newest, err := store.Newest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.RangeJSON(context.Background(), newest-1, newest, "", 1, func(_ int64, typ string, line []byte) error {
			got, err := event.Decode(line, nil)
			if err != nil || typ != e.Type || got.ID != e.ID || got.Stream != e.Stream || got.Type != e.Type ||
				got.Version != e.Version || got.CommandID != e.CommandID || !got.Time.Equal(e.Time) || got.Schema != schema {
				t.Fatalf("stored %s, served %s (type %q): %+v, %v", b, line, typ, got, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
