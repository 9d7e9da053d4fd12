package service_test

import (
	"bytes"
	"sync"
	"testing"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestIdempotencyKey: a retry with the same Idempotency-Key returns the first result and
// changes nothing, also after a writer restart; a key reused for another request is a
// conflict; keys are per wallet; concurrent duplicates are applied once.
func TestIdempotencyKey(t *testing.T) {
	s := stacktest.Start(t)
	top := t // restarts register their cleanup with the test that owns the stack
	db := walletDB(t, s)
	rows := func() int { return count(t, db, `SELECT count(*) FROM event`) }
	keyRows := func(id, key string) int {
		return count(t, db, `SELECT count(*) FROM event WHERE stream = ? AND idempotency_key = ?`, "wallet."+id, key)
	}

	a, b := newWallet(), newWallet()
	first := must(t, "POST", walletURL(s, a, "credit"), `{"amount": 5}`, "Idempotency-Key", "k-1")
	if first.Code != 200 || first.version() != 1 || first.balance() != 500 {
		t.Fatalf("first credit: %s", first)
	}
	n := rows()

	t.Run("retry returns the first result", func(t *testing.T) {
		r := must(t, "POST", walletURL(s, a, "credit"), `{"amount": 5}`, "Idempotency-Key", "k-1")
		if r.Code != 200 || !bytes.Equal(r.Body, first.Body) || r.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Errorf("retry: %s %q, first %s %q", r, r.Header.Get("ETag"), first, first.Header.Get("ETag"))
		}
		if rows() != n || keyRows(a, "k-1") != 1 {
			t.Errorf("retry wrote a row: %d rows, %d before", rows(), n)
		}
		if r := must(t, "GET", walletURL(s, a), ""); r.version() != 1 || r.balance() != 500 {
			t.Errorf("wallet after retry: %s", r)
		}
	})

	t.Run("same key, other request", func(t *testing.T) {
		for _, c := range []struct{ cmd, body string }{{"credit", `{"amount": 6}`}, {"debit", `{"amount": 5}`}, {"credit", `{"amount": 5.01}`}} {
			r := must(t, "POST", walletURL(s, a, c.cmd), c.body, "Idempotency-Key", "k-1")
			if r.Code != 409 || r.errType() != "idempotency_key_reused" || r.errMessage() == "" {
				t.Errorf("%s %s with a used key: %s, want 409 idempotency_key_reused", c.cmd, c.body, r)
			}
		}
		if rows() != n {
			t.Errorf("a reused key wrote rows: %d, %d before", rows(), n)
		}
		if r := must(t, "GET", walletURL(s, a), ""); r.version() != 1 || r.balance() != 500 {
			t.Errorf("wallet after reused keys: %s", r)
		}
	})

	t.Run("keys are per wallet", func(t *testing.T) {
		r := must(t, "POST", walletURL(s, b, "credit"), `{"amount": 7}`, "Idempotency-Key", "k-1")
		if r.Code != 200 || r.version() != 1 || r.balance() != 700 || r.JSON["id"] != b {
			t.Errorf("the same key on another wallet: %s", r)
		}
		if keyRows(b, "k-1") != 1 || keyRows(a, "k-1") != 1 {
			t.Errorf("rows with key k-1: %d on b, %d on a", keyRows(b, "k-1"), keyRows(a, "k-1"))
		}
		n = rows()
	})

	t.Run("a rejected first result is replayed", func(t *testing.T) {
		c := newWallet()
		r1 := must(t, "POST", walletURL(s, c, "debit"), `{"amount": 3}`, "Idempotency-Key", "debit-1")
		if r1.Code != 422 || r1.errType() != "insufficient_funds" {
			t.Fatalf("debit on an empty wallet: %s", r1)
		}
		credit(t, s, c, 10_00)
		r2 := must(t, "POST", walletURL(s, c, "debit"), `{"amount": 3}`, "Idempotency-Key", "debit-1")
		if r2.Code != 422 || !bytes.Equal(r2.Body, r1.Body) {
			t.Errorf("retry of a rejected debit after a credit: %s, first %s", r2, r1)
		}
		if r := must(t, "GET", walletURL(s, c), ""); r.version() != 1 || r.balance() != 10_00 {
			t.Errorf("wallet after the retried debit: %s", r)
		}
		if keyRows(c, "debit-1") != 1 {
			t.Errorf("%d rows with key debit-1", keyRows(c, "debit-1"))
		}
		n = rows()
	})

	t.Run("retry with If-Match returns the first result", func(t *testing.T) {
		r1 := must(t, "POST", walletURL(s, b, "credit"), `{"amount": 1}`, "Idempotency-Key", "im-1", "If-Match", `"1"`)
		if r1.Code != 200 || r1.version() != 2 {
			t.Fatalf("credit with If-Match 1: %s", r1)
		}
		r2 := must(t, "POST", walletURL(s, b, "credit"), `{"amount": 1}`, "Idempotency-Key", "im-1", "If-Match", `"1"`)
		if r2.Code != 200 || !bytes.Equal(r2.Body, r1.Body) {
			t.Errorf("retry (now the wallet is at version 2): %s, first %s", r2, r1)
		}
		n = rows()
	})

	t.Run("after a writer restart", func(t *testing.T) {
		restartWriter(top, s)
		r := must(t, "POST", walletURL(s, a, "credit"), `{"amount": 5}`, "Idempotency-Key", "k-1")
		if r.Code != 200 || !bytes.Equal(r.Body, first.Body) || r.Header.Get("ETag") != `"1"` {
			t.Errorf("retry after restart: %s, first %s", r, first)
		}
		r = must(t, "POST", walletURL(s, a, "credit"), `{"amount": 9}`, "Idempotency-Key", "k-1")
		if r.Code != 409 || r.errType() != "idempotency_key_reused" {
			t.Errorf("reused key after restart: %s", r)
		}
		if rows() != n || keyRows(a, "k-1") != 1 {
			t.Errorf("retries after restart wrote rows: %d, %d before", rows(), n)
		}
		if r := must(t, "GET", walletURL(s, a), ""); r.version() != 1 || r.balance() != 500 {
			t.Errorf("wallet after retries: %s", r)
		}
		// A new key still applies, at the next version.
		r = must(t, "POST", walletURL(s, a, "credit"), `{"amount": 5}`, "Idempotency-Key", "k-2")
		if r.Code != 200 || r.version() != 2 || r.balance() != 10_00 {
			t.Errorf("new key after restart: %s", r)
		}
		n = rows()
	})

	t.Run("concurrent duplicates apply once", func(t *testing.T) {
		for round := range 5 {
			id := newWallet()
			const clients = 20
			outs := make([]response, clients)
			errs := make([]error, clients)
			startGate := make(chan struct{})
			var wg sync.WaitGroup
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-startGate
					outs[i], errs[i] = send("POST", walletURL(s, id, "credit"), `{"amount": 2.50}`, "Idempotency-Key", "dup")
				}()
			}
			close(startGate)
			wg.Wait()
			for i := range clients {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if outs[i].Code != 200 || !bytes.Equal(outs[i].Body, outs[0].Body) || outs[i].version() != 1 || outs[i].balance() != 250 {
					t.Errorf("round %d client %d: %s, client 0: %s", round, i, outs[i], outs[0])
				}
			}
			if k := keyRows(id, "dup"); k != 1 {
				t.Errorf("round %d: %d rows with the key, want 1", round, k)
			}
			if k := count(t, db, `SELECT count(*) FROM event WHERE stream = ?`, "wallet."+id); k != 1 {
				t.Errorf("round %d: %d rows of the wallet, want 1", round, k)
			}
			if r := must(t, "GET", walletURL(s, id), ""); r.version() != 1 || r.balance() != 250 {
				t.Errorf("round %d: wallet %s", round, r)
			}
		}
	})
	verify(t, s)
}
