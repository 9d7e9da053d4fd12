package writer

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// The old-format fixture (testdata/oldformat, go run ./testdata/oldformat/generate): two
// wallets whose events are stored in every format the wallet ever had.
const (
	fixtureA = "2d52QD8yWLjklH58uNZu6AAPqTJ" // balance 10.00 at version 4
	fixtureB = "2d52QD8yWLjklH58uNZu6AAPqTK" // balance 5.00 at version 1
)

// openFixture opens a copy of the fixture's event log.
func openFixture(t *testing.T) *sqlite.Store {
	t.Helper()
	src, err := os.Open("../../testdata/oldformat/wallet.db")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "wallet.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// unversioned is the wallet without its upcasters.
type unversioned struct{ d wallet.Domain }

func (u unversioned) Name() string { return u.d.Name() }
func (u unversioned) ParseCommand(typ string, body []byte) (aggregate.Command, error) {
	return u.d.ParseCommand(typ, body)
}
func (u unversioned) Decide(s wallet.State, v int64, c aggregate.Command) ([]aggregate.Event, error) {
	return u.d.Decide(s, v, c)
}
func (u unversioned) Evolve(s wallet.State, e aggregate.Event) (wallet.State, error) {
	return u.d.Evolve(s, e)
}

// TestVerifyOldFormat: verify reads the fixture's events, upcast, to the states its
// state log holds; without the wallet's upcasters it would not.
func TestVerifyOldFormat(t *testing.T) {
	store := openFixture(t)
	rep, err := Verify[wallet.State](context.Background(), store, wallet.Domain{})
	if err != nil || !rep.OK() || rep.Events != 5 || rep.Streams != 2 {
		t.Fatalf("Verify = %+v, %v; want OK, 5 events of 2 streams", rep, err)
	}
	rep, err = Verify[wallet.State](context.Background(), store, unversioned{})
	if err != nil || rep.OK() {
		t.Fatalf("Verify without upcasters = %+v, %v; want mismatches (the fixture holds version 1 events)", rep, err)
	}
}

// TestRebuildEntriesOldFormat: the read model rebuild restores every event of the
// fixture in its current format, and today's events byte for byte as stored.
func TestRebuildEntriesOldFormat(t *testing.T) {
	store := openFixture(t)
	up, err := event.NewUpcasters(wallet.Domain{})
	if err != nil {
		t.Fatal(err)
	}
	w := &Writer[wallet.State]{up: up}
	rows, err := store.StreamRows(context.Background(), event.Stream("wallet", fixtureA), 0, 100)
	if err != nil || len(rows) != 4 {
		t.Fatalf("StreamRows: %d rows, %v", len(rows), err)
	}
	wantData := []string{`{"amount":"10.00","balance":"10.00"}`, `{"amount":"2.50","balance":"7.50"}`,
		`{"amount":"0.25","balance":"7.75"}`, `{"amount":"2.25","balance":"10.00"}`}
	for i, r := range rows {
		entries, err := w.storedEntries(nil, r.Events)
		if err != nil || len(entries) != 1 {
			t.Fatalf("row %d: %d entries, %v", i, len(entries), err)
		}
		var e event.Envelope
		if err := json.Unmarshal(entries[0].JSON, &e); err != nil {
			t.Fatal(err)
		}
		if entries[0].Version != int64(i+1) || e.Version != int64(i+1) || e.Schema != 2 || string(e.Data) != wantData[i] {
			t.Fatalf("row %d: entry %d %s; want version %d, schema 2, data %s", i, entries[0].Version, entries[0].JSON, i+1, wantData[i])
		}
		stored := strings.TrimSuffix(strings.TrimPrefix(string(r.Events), "["), "]")
		if i == 3 && string(entries[0].JSON) != stored {
			t.Fatalf("a current event was rewritten: %s, stored %s", entries[0].JSON, stored)
		}
	}
}
