package service_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestRestartKeepsState runs a load, restarts the writer, and requires the same balances
// and versions afterwards (through the API, with Redis and without it, and in the state
// log), a replay that matches, and new commands that continue at the right versions.
func TestRestartKeepsState(t *testing.T) {
	s := stacktest.Start(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	wallets := make([]string, 10)
	for i := range wallets {
		wallets[i] = newWallet()
	}
	totals := checkOutcomes(t, runOps(s, randomOps(rng, wallets, 600, 0.6, 20_00), 32))
	if t.Failed() {
		t.FailNow()
	}
	db := walletDB(t, s)
	checkRows(t, db, totals)
	rowsBefore := count(t, db, `SELECT count(*) FROM event`)
	statesBefore := count(t, db, `SELECT count(*) FROM state`)

	// Before: the API's documents are the state log's.
	docs := make(map[string]string)
	for _, id := range wallets {
		if totals[id].Accepted == 0 {
			continue
		}
		r := must(t, "GET", walletURL(s, id), "")
		docs[id] = strings.TrimSpace(string(r.Body))
		if st := latestState(t, db, id); st != docs[id] {
			t.Errorf("wallet %s: API shows %s, state log %s", id, docs[id], st)
		}
	}
	checkWallets(t, s, totals)

	restartWriter(t, s)

	checkWallets(t, s, totals)
	// Without Redis, the documents come from the restarted writer's state.
	if err := redisClient(t, s).FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for id, doc := range docs {
		r := must(t, "GET", walletURL(s, id), "")
		if got := strings.TrimSpace(string(r.Body)); r.Code != 200 || got != doc {
			t.Errorf("wallet %s after restart: %s, before %s", id, r, doc)
		}
		if st := latestState(t, db, id); st != doc {
			t.Errorf("wallet %s: state log %s after restart, %s before", id, st, doc)
		}
	}
	checkWallets(t, s, totals)
	if n := count(t, db, `SELECT count(*) FROM event`); n != rowsBefore {
		t.Errorf("restart changed the event table: %d rows, %d before", n, rowsBefore)
	}
	if n := count(t, db, `SELECT count(*) FROM state`); n != statesBefore {
		t.Errorf("restart changed the state table: %d rows, %d before", n, statesBefore)
	}
	verify(t, s)

	// New commands continue where the log left off.
	for _, id := range wallets {
		tot := totals[id]
		r := must(t, "POST", walletURL(s, id, "credit"), `{"amount": "1.25"}`)
		if r.Code != 200 || r.version() != tot.Accepted+1 || r.balance() != tot.Balance+125 {
			t.Errorf("credit after restart on %s: %s, want version %d balance %s", id, r, tot.Accepted+1, fmtCents(tot.Balance+125))
		}
		r = must(t, "POST", walletURL(s, id, "debit"), amountBody(tot.Balance+126))
		if r.Code != 422 || r.errType() != "insufficient_funds" {
			t.Errorf("debit of more than the balance after restart on %s: %s", id, r)
		}
		r = must(t, "POST", walletURL(s, id, "debit"), amountBody(tot.Balance+125))
		if r.Code != 200 || r.version() != tot.Accepted+2 || r.balance() != 0 {
			t.Errorf("debit of the whole balance after restart on %s: %s, want version %d balance 0.00", id, r, tot.Accepted+2)
		}
		tot.Accepted, tot.Balance, tot.Sent = tot.Accepted+2, 0, tot.Sent+3
	}
	checkWallets(t, s, totals)
	checkRows(t, db, totals)
	verify(t, s)
}
