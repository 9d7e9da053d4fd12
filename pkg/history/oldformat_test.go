package history_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// fixtureData is the data of the old-format fixture's events (testdata/oldformat), in
// position order, in their current format (version 2).
var fixtureData = []string{
	`{"amount":"10.00","balance":"10.00"}`, `{"amount":"2.50","balance":"7.50"}`, `{"amount":"5.00","balance":"5.00"}`,
	`{"amount":"0.25","balance":"7.75"}`, `{"amount":"2.25","balance":"10.00"}`,
}

// copyFixture copies the fixture's history, made before the history knew schema
// versions, and returns the copy's path.
func copyFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/oldformat/history.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// openAt opens (and migrates) the history at path, upcasting with up (nil: none).
func openAt(t *testing.T, path string, up *event.Upcasters) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	s.UseUpcasters(up)
	return s
}

// openFixture opens a copy of the fixture's history with up.
func openFixture(t *testing.T, up *event.Upcasters) *history.Store {
	t.Helper()
	return openAt(t, copyFixture(t), up)
}

func walletUpcasters(t *testing.T) *event.Upcasters {
	t.Helper()
	up, err := event.NewUpcasters(wallet.Domain{})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// TestServesOldFormatUpcast: every way the history serves its events (pages, ranges, the
// SSE stream's envelopes) gives the fixture's events in their current format.
func TestServesOldFormatUpcast(t *testing.T) {
	s := openFixture(t, walletUpcasters(t))
	ctx := context.Background()
	entries, newest, err := s.After(ctx, 0, 100)
	if err != nil || newest != 5 || len(entries) != 5 {
		t.Fatalf("After: %d entries, newest %d, %v", len(entries), newest, err)
	}
	for i, e := range entries {
		if string(e.Data) != fixtureData[i] || e.Schema != 2 {
			t.Fatalf("entry %d: %s schema %d; want %s schema 2", i+1, e.Data, e.Schema, fixtureData[i])
		}
	}
	i := 0
	if _, err := s.RangeJSON(ctx, 0, 5, "wallet.", 100, func(position int64, typ string, b []byte) error {
		e, err := event.Decode(b, nil)
		if err != nil || string(e.Data) != fixtureData[i] || e.Schema != 2 || e.ID != entries[i].ID {
			t.Fatalf("RangeJSON at %d: %s, %v; want data %s, schema 2", position, b, err, fixtureData[i])
		}
		i++
		return nil
	}); err != nil || i != 5 {
		t.Fatalf("RangeJSON: %d events, %v", i, err)
	}

	r := httpapi.NewRouter()
	history.Mount(r, s)
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/history?after=0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var page struct {
		Events []struct {
			Data   json.RawMessage `json:"data"`
			Schema int             `json:"schema"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Events) != 5 {
		t.Fatalf("GET /history: %s, %v", body, err)
	}
	for i, e := range page.Events {
		if string(e.Data) != fixtureData[i] || e.Schema != 2 {
			t.Fatalf("GET /history event %d: %s schema %d", i+1, e.Data, e.Schema)
		}
	}
}

// TestOldFormatWithoutUpcasters: the fixture really holds old formats: a history without
// the wallet's upcasters serves them as stored.
func TestOldFormatWithoutUpcasters(t *testing.T) {
	entries, _, err := openFixture(t, nil).After(context.Background(), 0, 100)
	if err != nil || len(entries) != 5 {
		t.Fatalf("After: %d entries, %v", len(entries), err)
	}
	if string(entries[0].Data) != `{"amount_cents":1000,"balance_cents":1000}` || entries[0].Schema != 0 {
		t.Fatalf("entry 1 without upcasters: %s schema %d", entries[0].Data, entries[0].Schema)
	}
}

// TestStoresUpcast: an event that comes in an old format is stored in the current one
// (as the consumer decodes it), next to the fixture's old rows, and served so.
func TestStoresUpcast(t *testing.T) {
	up := walletUpcasters(t)
	path := copyFixture(t)
	s := openAt(t, path, up)
	msg := `{"id":"new","stream":"wallet.2d52QD8yWLjklH58uNZu6AAPqTK","version":2,"type":"debited","data":{"amount_cents":125,"balance_cents":375},"command_id":"c","time":"2025-01-02T03:04:05Z"}`
	e, err := event.Decode([]byte(msg), up)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Append(context.Background(), []event.Envelope{e}); err != nil || n != 1 {
		t.Fatalf("Append: %d, %v", n, err)
	}
	bare := openAt(t, path, nil) // the same file without upcasters: what is stored
	got, err := bare.Range(context.Background(), 5, 6, "", 10)
	if err != nil || len(got) != 1 || string(got[0].Data) != `{"amount":"1.25","balance":"3.75"}` || got[0].Schema != 2 {
		t.Fatalf("stored: %+v, %v; want the event at version 2", got, err)
	}
}

// TestServesNewerVersionAsStored: an event in a version newer than the history knows (a
// writer upgraded before it) is kept and served as it came, not refused.
func TestServesNewerVersionAsStored(t *testing.T) {
	s := openFixture(t, walletUpcasters(t))
	e := event.Envelope{ID: "newer", Stream: "wallet." + "2d52QD8yWLjklH58uNZu6AAPqTK", Version: 2, Type: "debited", Schema: 3,
		Data: json.RawMessage(`{"amount":{"units":1}}`), CommandID: "c"}
	if _, err := s.Append(context.Background(), []event.Envelope{e}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Range(context.Background(), 5, 6, "", 10)
	if err != nil || len(got) != 1 || got[0].Schema != 3 || string(got[0].Data) != string(e.Data) {
		t.Fatalf("Range: %+v, %v; want the event as stored", got, err)
	}
	n, err := s.RangeJSON(context.Background(), 0, 6, "", 10, func(position int64, _ string, b []byte) error {
		if position == 6 {
			if got, err := event.Decode(b, nil); err != nil || got.Schema != 3 || string(got.Data) != string(e.Data) {
				t.Fatalf("RangeJSON: %s, %v; want the event as stored", b, err)
			}
		}
		return nil
	})
	if err != nil || n != 6 {
		t.Fatalf("RangeJSON: %d events, %v", n, err)
	}
}
