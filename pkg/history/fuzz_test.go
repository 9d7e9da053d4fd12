package history

import (
	"context"
	"path/filepath"
	"testing"

	"uneventful.dev/uneventful/pkg/event"
)

// FuzzEventMessage feeds arbitrary messages of the events stream through the history
// writer: a message that decodes as an event is stored (once, however often it comes);
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
		if _, err := store.Append(context.Background(), []event.Envelope{e, e}); err != nil {
			t.Fatalf("store %s: %v", b, err)
		}
	})
}
