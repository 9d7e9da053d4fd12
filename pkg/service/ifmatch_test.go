package service_test

import (
	"strconv"
	"testing"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestIfMatch: GET /wallet/{id} gives the version as ETag; a POST with If-Match of the
// current version applies, a stale one is 412 version_mismatch and changes nothing,
// "0" means a wallet never written, and a malformed If-Match is 400.
func TestIfMatch(t *testing.T) {
	s := stacktest.Start(t)
	db := walletDB(t, s)
	id := newWallet()
	balanceIs := func(version, c int64) {
		t.Helper()
		r := must(t, "GET", walletURL(s, id), "")
		if r.Code != 200 || r.version() != version || r.balance() != c || r.Header.Get("ETag") != `"`+strconv.FormatInt(version, 10)+`"` {
			t.Fatalf("wallet: %s ETag %s, want version %d balance %s", r, r.Header.Get("ETag"), version, fmtCents(c))
		}
	}

	r := must(t, "POST", walletURL(s, id, "credit"), `{"amount": 10}`, "If-Match", `"0"`)
	if r.Code != 200 || r.version() != 1 || r.Header.Get("ETag") != `"1"` {
		t.Fatalf(`credit with If-Match "0" on a new wallet: %s`, r)
	}
	balanceIs(1, 10_00)

	r = must(t, "POST", walletURL(s, id, "credit"), `{"amount": 1}`, "If-Match", `"0"`)
	if r.Code != 412 || r.errType() != "version_mismatch" {
		t.Fatalf(`credit with If-Match "0" on an existing wallet: %s`, r)
	}
	balanceIs(1, 10_00)

	// The ETag of a GET is what the next POST sends.
	etag := must(t, "GET", walletURL(s, id, "balance"), "").Header.Get("ETag")
	r = must(t, "POST", walletURL(s, id, "debit"), `{"amount": 2.5}`, "If-Match", etag)
	if r.Code != 200 || r.version() != 2 || r.balance() != 7_50 || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("debit with If-Match %s: %s", etag, r)
	}
	balanceIs(2, 7_50)

	// Other spellings of the current version.
	for i, h := range []string{`W/"2"`, `3`, ` "4" `} {
		r := must(t, "POST", walletURL(s, id, "credit"), `{"amount": 1}`, "If-Match", h)
		if r.Code != 200 || r.version() != int64(3+i) {
			t.Fatalf("credit with If-Match %s: %s", h, r)
		}
	}
	balanceIs(5, 10_50)

	// Stale versions are refused and apply nothing; the refusal is logged as rejected.
	rows := count(t, db, `SELECT count(*) FROM event`)
	for _, h := range []string{`"4"`, `"1"`, `"6"`, `"999"`} {
		for _, cmd := range []string{"credit", "debit"} {
			r := must(t, "POST", walletURL(s, id, cmd), `{"amount": 1}`, "If-Match", h)
			if r.Code != 412 || r.errType() != "version_mismatch" || r.errMessage() == "" {
				t.Errorf("%s with stale If-Match %s: %s, want 412 version_mismatch", cmd, h, r)
			}
		}
	}
	balanceIs(5, 10_50)
	if n := count(t, db, `SELECT count(*) FROM event WHERE outcome = 'accepted'`); n != 5 {
		t.Errorf("%d accepted rows, want 5", n)
	}
	if n := count(t, db, `SELECT count(*) FROM event`); n < rows || n > rows+8 {
		t.Errorf("%d rows after 8 stale commands, %d before", n, rows)
	}

	// Malformed If-Match: 400, nothing sent to the writer.
	rows = count(t, db, `SELECT count(*) FROM event`)
	for _, h := range []string{`abc`, `"abc"`, `"-1"`, `-1`, `"1.0"`, `"99999999999999999999"`, `W/`, `W/"x"`, `""`} {
		r := must(t, "POST", walletURL(s, id, "credit"), `{"amount": 1}`, "If-Match", h)
		if r.Code != 400 || r.errType() != "invalid_if_match" || r.errMessage() == "" {
			t.Errorf("If-Match %s: %s, want 400 invalid_if_match", h, r)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM event`); n != rows {
		t.Errorf("malformed If-Match wrote %d rows", n-rows)
	}
	balanceIs(5, 10_50)

	// A never-written wallet has no ETag and answers 404.
	r = must(t, "GET", walletURL(s, newWallet()), "")
	if r.Code != 404 || r.errType() != "not_found" || r.Header.Get("ETag") != "" {
		t.Errorf("GET a new wallet: %s ETag %q", r, r.Header.Get("ETag"))
	}
	verify(t, s)
}
