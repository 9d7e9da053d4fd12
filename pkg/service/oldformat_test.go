package service_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// The old-format fixture (testdata/oldformat): wallet A, balance 10.00 at version 4, and
// wallet B, 5.00 at version 1, with events stored in every format the wallet ever had.
const (
	oldWalletA = "2d52QD8yWLjklH58uNZu6AAPqTJ"
	oldWalletB = "2d52QD8yWLjklH58uNZu6AAPqTK"
)

// oldData is the data of the fixture's events in their current format, by stream and
// version.
var oldData = map[string][]string{
	"wallet." + oldWalletA: {`{"amount":"10.00","balance":"10.00"}`, `{"amount":"2.50","balance":"7.50"}`,
		`{"amount":"0.25","balance":"7.75"}`, `{"amount":"2.25","balance":"10.00"}`},
	"wallet." + oldWalletB: {`{"amount":"5.00","balance":"5.00"}`},
}

// storedEvent is an event as the read model and the history serve it.
type storedEvent struct {
	Stream  string          `json:"stream"`
	Version int64           `json:"version"`
	Schema  int             `json:"schema"`
	Data    json.RawMessage `json:"data"`
}

// TestOldFormatStack starts a stack on the old-format fixture's event log: the writer
// starts from it and goes on (a credit on top of it), the read model rebuild restores its
// events in their current format, and the history stores and serves them so, whether it
// receives them from the writer's outbox (a new history) or holds them already in their
// old format (the fixture's history, made before schema versions).
func TestOldFormatStack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history bool
	}{{"new history", false}, {"old history", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := stacktest.StartParts(t)
			copyFile(t, "../../testdata/oldformat/wallet.db", s.WalletDB)
			if tc.history {
				copyFile(t, "../../testdata/oldformat/history.db", s.HistoryDB)
			}
			s.StartServices()

			// The read model: states from the state log, events upcast.
			for id, balance := range map[string]string{oldWalletA: "10.00", oldWalletB: "5.00"} {
				r := must(t, "GET", walletURL(s, id), "")
				if r.Code != 200 || r.JSON["balance"] != balance {
					t.Fatalf("GET wallet %s: %s; want balance %s", id, r, balance)
				}
			}
			checkTransactions(t, s, oldWalletA, 4)

			// The writer goes on from the fixture's state; a new event is at version 2.
			r := must(t, "POST", walletURL(s, oldWalletA, "credit"), `{"amount": "1.50"}`)
			if r.Code != 200 || r.JSON["balance"] != "11.50" || r.JSON["version"] != float64(5) {
				t.Fatalf("credit on the fixture: %s; want balance 11.50 at version 5", r)
			}
			oldData["wallet."+oldWalletA] = append(oldData["wallet."+oldWalletA][:4:4], `{"amount":"1.50","balance":"11.50"}`)
			checkTransactions(t, s, oldWalletA, 5)

			// The history: every event once, current.
			stacktest.Eventually(t, 20*time.Second, func() error {
				r := must(t, "GET", s.HistoryURL+"/history?after=0&limit=100", "")
				var page struct{ Events []storedEvent }
				if err := json.Unmarshal(r.Body, &page); err != nil {
					return err
				}
				if len(page.Events) != 6 {
					return stacktest.Errorf("%d events in the history, want 6", len(page.Events))
				}
				for _, e := range page.Events {
					if want := oldData[e.Stream][e.Version-1]; string(e.Data) != want || e.Schema != 2 {
						t.Fatalf("history: %s v%d %s schema %d; want %s schema 2", e.Stream, e.Version, e.Data, e.Schema, want)
					}
				}
				return nil
			})
		})
	}
}

// checkTransactions requires the n events of wallet id in the read model, each in its
// current format.
func checkTransactions(t *testing.T, s *stacktest.Stack, id string, n int) {
	t.Helper()
	r := must(t, "GET", walletURL(s, id, "transactions")+"?limit=100", "")
	var body struct{ Transactions []storedEvent }
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Transactions) != n {
		t.Fatalf("transactions of %s: %s; want %d", id, r, n)
	}
	for _, e := range body.Transactions {
		if want := oldData[e.Stream][e.Version-1]; string(e.Data) != want || e.Schema != 2 {
			t.Fatalf("transaction %s v%d: %s schema %d; want %s schema 2", e.Stream, e.Version, e.Data, e.Schema, want)
		}
	}
}

// copyFile copies the file src to dst, making dst's directory.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
