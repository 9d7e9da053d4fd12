package service_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestGracefulWriterStop stops the writer (as on SIGTERM) while 64 clients send credits,
// and starts it again once a request has met it stopped,
// with Idempotency-Keys. Every 200 is in the event log at once (the stopped writer
// acknowledged only durable writes); the requests the stop refused (503) or left unknown
// (504) are retried with their keys once the writer is back, and then every credit is
// applied exactly once.
func TestGracefulWriterStop(t *testing.T) {
	s := stacktest.Start(t)
	db := walletDB(t, s)
	const clients, perClient = 64, 20
	wallets := make([]string, 16)
	for i := range wallets {
		wallets[i] = newWallet()
	}
	type req struct {
		wallet, key string
		cents       int64
	}
	type result struct {
		req
		firstCode   int    // the answer before any retry
		firstType   string // its error type
		code        int    // the final answer
		version     int64
		acknowledge time.Time // when the first 200 arrived
	}
	results := make([][]result, clients)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	for c := range results {
		results[c] = make([]result, perClient)
		for i := range results[c] {
			results[c][i].req = req{wallet: wallets[rng.IntN(len(wallets))], key: fmt.Sprintf("c%d-%d", c, i), cents: 1 + rng.Int64N(99_99)}
		}
	}

	var answered atomic.Int64
	stopNow := make(chan struct{})   // closed when a quarter of the requests are answered
	metStop := make(chan struct{})   // closed when a request is refused (503) or left unknown (504)
	restarted := make(chan struct{}) // closed once the writer is back and ready
	var stopOnce, metOnce sync.Once
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range results[c] {
				res := &results[c][i]
				body := amountBody(res.cents)
				for attempt := 0; ; attempt++ {
					r, err := send("POST", walletURL(s, res.wallet, "credit"), body, "Idempotency-Key", res.key)
					if err != nil {
						res.code, res.firstType = -1, err.Error()
						break
					}
					if attempt == 0 {
						res.firstCode, res.firstType = r.Code, r.errType()
						if answered.Add(1) == clients*perClient/4 {
							stopOnce.Do(func() { close(stopNow) })
						}
					}
					res.code, res.version = r.Code, r.version()
					if r.Code == 200 && res.acknowledge.IsZero() {
						res.acknowledge = time.Now()
					}
					if (r.Code != 503 && r.Code != 504) || attempt >= 20 {
						break
					}
					metOnce.Do(func() { close(metStop) })
					<-restarted // retry with the same key once the writer is back
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	select {
	case <-stopNow:
	case <-allDone:
		t.Fatal("the load ended before the stop")
	}
	s.StopWriter()
	stopped := time.Now()
	// The log as the stopped writer left it: writes acknowledged before this point must be
	// in it (checked below, once the clients' results can be read).
	var seqAtStop int64
	if err := db.QueryRow(`SELECT coalesce(max(seq), 0) FROM event`).Scan(&seqAtStop); err != nil {
		t.Fatal(err)
	}
	// The writer stays down until a request has met it stopped: on a busy machine the
	// clients may not have sent anything in the moment a restart takes.
	select {
	case <-metStop:
	case <-allDone:
		t.Fatal("every request was answered while the writer was stopped, none refused")
	}
	s.StartWriter()
	t.Cleanup(s.StopWriter)
	stacktest.WaitReady(t, s.WriterURL)
	close(restarted)
	<-allDone

	// Check every answer.
	sent := make(map[string]int64) // cents per wallet
	ops := make(map[string]int64)  // commands per wallet
	var refused, retried, ackedBeforeStop int
	for c := range results {
		for _, res := range results[c] {
			sent[res.wallet] += res.cents
			ops[res.wallet]++
			switch res.firstCode {
			case 200:
			case 503, 504:
				refused++
			default:
				t.Errorf("%s: first answer %d %s, want 200, 503 or 504", res.key, res.firstCode, res.firstType)
			}
			if res.firstCode != 200 {
				retried++
			}
			if res.code != 200 {
				t.Errorf("%s: final answer %d %s after retries", res.key, res.code, res.firstType)
				continue
			}
			// The acknowledged write is in the log, once, at the version answered.
			var version, seq int64
			var outcome string
			n := count(t, db, `SELECT count(*) FROM event WHERE stream = ? AND idempotency_key = ?`, "wallet."+res.wallet, res.key)
			if n != 1 {
				t.Errorf("%s: %d rows with its key, want 1", res.key, n)
				continue
			}
			if err := db.QueryRow(`SELECT seq, coalesce(version, 0), outcome FROM event WHERE stream = ? AND idempotency_key = ?`,
				"wallet."+res.wallet, res.key).Scan(&seq, &version, &outcome); err != nil {
				t.Fatal(err)
			}
			if outcome != "accepted" || version != res.version {
				t.Errorf("%s: answered 200 at version %d, the log has %s at version %d", res.key, res.version, outcome, version)
			}
			if res.acknowledge.Before(stopped) {
				ackedBeforeStop++
				if seq > seqAtStop {
					t.Errorf("%s: acknowledged before the writer stopped, but its row (seq %d) was not in the log then (last seq %d)", res.key, seq, seqAtStop)
				}
			}
		}
	}
	t.Logf("%d requests, %d acknowledged before the writer was stopped, %d refused by the stop and retried; last seq at the stop %d",
		clients*perClient, ackedBeforeStop, refused, seqAtStop)
	if ackedBeforeStop < clients*perClient/4-clients {
		t.Errorf("only %d writes acknowledged before the stop", ackedBeforeStop)
	}
	if retried == 0 {
		t.Errorf("no request met the stopped writer: the test did not exercise the stop")
	}
	// Each credit applied exactly once.
	for _, id := range wallets {
		r := must(t, "GET", walletURL(s, id), "")
		if r.Code != 200 || r.version() != ops[id] || r.balance() != sent[id] {
			t.Errorf("wallet %s: %s, want version %d balance %s", id, r, ops[id], fmtCents(sent[id]))
		}
	}
	if n := count(t, db, `SELECT count(*) FROM event`); n != clients*perClient {
		t.Errorf("%d rows, want %d (one per credit)", n, clients*perClient)
	}
	verify(t, s)
}
