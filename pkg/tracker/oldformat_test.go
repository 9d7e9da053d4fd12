package tracker_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/tracker"
)

// The old-format fixture (testdata/oldformat: wallet events stored before schema
// versions) is read by the tracker, served upcast by the history or as stored and upcast
// by the tracker: five credits and debits, each its own completed command.
func TestOldFormatFixture(t *testing.T) {
	up, err := event.NewUpcasters(wallet.Domain{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		history, reader *event.Upcasters
	}{
		{"upcast by the history", up, nil},
		{"upcast by the tracker", nil, up},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile("../../testdata/oldformat/history.db")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "history.db")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := history.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.UseUpcasters(tc.history)
			r := httpapi.NewRouter()
			history.Mount(r, s)
			srv := httptest.NewServer(r)
			defer srv.Close()
			far := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // the fixture's events are in the window
			tr := newTracker(t, srv.URL, tracker.Options{Upcasters: tc.reader, Now: func() time.Time { return far }})
			if err := tr.Replay(context.Background()); err != nil {
				t.Fatal(err)
			}
			c := tr.Counters()
			if c.Position != 5 || c.Completed != 5 || c.InFlight != 0 || len(c.Domains) != 1 || c.Domains[0].Events != 5 {
				t.Fatalf("counters: %+v", c)
			}
		})
	}
}
