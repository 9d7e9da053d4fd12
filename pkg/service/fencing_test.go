package service_test

import (
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestFencingTokenOverHTTP: a wallet credited under Fencing-Token lock=5 refuses lock=4
// with 409 stale_token and its balance stays; an idempotent retry of the applied credit
// answers as before with a lower token; a bad header is a C3 400 and writes nothing; the
// token survives a writer restart.
func TestFencingTokenOverHTTP(t *testing.T) {
	s := stacktest.Start(t)
	id := newWallet()
	first := credit(t, s, id, 500, "Fencing-Token", "myapp.resource=5", "Idempotency-Key", "k1")
	if got := string(first.Body); !strings.Contains(got, `"fencing":{"myapp.resource":5}`) {
		t.Fatalf("state %s does not show the token", got)
	}
	r := must(t, "POST", walletURL(s, id, "credit"), amountBody(100), "Fencing-Token", "myapp.resource=4")
	if r.Code != 409 || r.errType() != "stale_token" {
		t.Fatalf("lower token: %s, want 409 stale_token", r)
	}
	if again := credit(t, s, id, 500, "Fencing-Token", "myapp.resource=1", "Idempotency-Key", "k1"); string(again.Body) != string(first.Body) {
		t.Fatalf("retry answered %s, first %s", again, first)
	}
	for _, bad := range []string{"myapp.resource", "myapp.resource=0", "myapp.resource=-3", "myapp.resource=x", "a b=1", strings.Repeat("x", 201) + "=1"} {
		r := must(t, "POST", walletURL(s, id, "credit"), amountBody(100), "Fencing-Token", bad)
		if r.Code != 400 || r.errType() != "invalid_fencing_token" {
			t.Fatalf("Fencing-Token %q: %s, want 400 invalid_fencing_token", bad, r)
		}
	}
	s.RestartWriter()
	r = must(t, "POST", walletURL(s, id, "credit"), amountBody(100), "Fencing-Token", "myapp.resource=4")
	if r.Code != 409 || r.errType() != "stale_token" {
		t.Fatalf("lower token after a restart: %s, want 409 stale_token", r)
	}
	got := must(t, "GET", walletURL(s, id), "")
	if got.balance() != 500 || got.version() != 1 {
		t.Fatalf("wallet %s, want balance 5.00 at version 1", got)
	}
	credit(t, s, id, 100, "Fencing-Token", "myapp.resource=5")
	if n := count(t, walletDB(t, s), `SELECT count(*) FROM event WHERE stream = ? AND outcome = 'accepted'`, "wallet."+id); n != 2 {
		t.Fatalf("%d accepted rows, want 2", n)
	}
}
