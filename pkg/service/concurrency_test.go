package service_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestConcurrentCreditsAndDebits sends 2,000 mixed credits and debits to one hot wallet
// and 2,000 more spread over 100 wallets, all interleaved, from 64 concurrent clients.
// Every answer is 200 or insufficient_funds; per wallet the accepted commands form one
// serial history (versions 1..n, exact balances, never negative); the event table holds
// one row per command; the replay matches the state log; the history holds exactly the
// accepted events.
func TestConcurrentCreditsAndDebits(t *testing.T) {
	s := stacktest.Start(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	hot := newWallet()
	spread := make([]string, 100)
	for i := range spread {
		spread[i] = newWallet()
	}
	ops := append(randomOps(rng, []string{hot}, 2000, 0.55, 50_00), randomOps(rng, spread, 2000, 0.6, 50_00)...)
	rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })

	start := time.Now()
	outs := runOps(s, ops, 64)
	t.Logf("%d commands in %s", len(ops), time.Since(start))

	totals := checkOutcomes(t, outs)
	if totals[hot].Accepted < 500 {
		t.Errorf("hot wallet: only %d of %d commands accepted; the load is not exercising it", totals[hot].Accepted, totals[hot].Sent)
	}
	if t.Failed() {
		t.FailNow()
	}
	checkWallets(t, s, totals)
	checkRows(t, walletDB(t, s), totals)

	var accepted int64
	want := make(map[string]int64)
	streams := 0
	for id, tot := range totals {
		accepted += tot.Accepted
		if tot.Accepted > 0 {
			want[id] = tot.Accepted
			streams++
		}
	}
	rep := verify(t, s)
	if rep.Events != accepted || rep.Streams != streams {
		t.Errorf("verify replayed %d events of %d streams, want %d of %d", rep.Events, rep.Streams, accepted, streams)
	}
	checkHistoryStreams(t, waitHistory(t, s, int(accepted)), want)
}
