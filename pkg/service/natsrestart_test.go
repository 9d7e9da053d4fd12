package service_test

import (
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestNATSRestart restarts the NATS server (same port, same JetStream storage) twice
// during a keyed load. The services reconnect by themselves; every command ends with its
// real outcome, exactly once in the log; the outbox drains, so the history is complete
// and gapless; and the API and a replay agree with the answers.
func TestNATSRestart(t *testing.T) {
	s := stacktest.Start(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	wallets := newWallets(20)
	stop := make(chan struct{})
	done := make(chan []keyedOutcome)
	go func() { done <- runKeyedLoad(func() string { return s.URL }, wallets, 8, seed, stop, nil, nil) }()
	var downs, reconnects []time.Duration
	var probes []keyedOutcome
	for range 2 {
		time.Sleep(time.Second)
		downs = append(downs, s.RestartNATS(300*time.Millisecond))
		// A fresh client's command, retried with its key (503 while the writer has not
		// subscribed again): how long until the stack takes writes again.
		k := sendKeyed(s.URL, op{Wallet: wallets[0], Kind: "credit", Cents: 1}, ksuid.New().String(), 15*time.Second, nil)
		if k.Code != 200 {
			t.Errorf("no command acknowledged within 15s of NATS coming back: %d %v", k.Code, k.Err)
		}
		reconnects = append(reconnects, k.Latency)
		probes = append(probes, k)
	}
	time.Sleep(time.Second)
	close(stop)
	outs := append(<-done, probes...)
	for _, u := range []string{s.URL, s.WriterURL, s.HistoryURL} {
		stacktest.WaitReady(t, u)
	}

	db := walletDB(t, s)
	totals, f := checkKeyed(t, db, outs)
	checkWallets(t, s, totals)
	rep := verify(t, s)
	var events int
	want := make(map[string]int64)
	for id, tot := range totals {
		events += int(tot.Accepted)
		want[id] = tot.Accepted
	}
	began := time.Now()
	checkHistoryStreams(t, waitHistory(t, s, events), want)
	drained := time.Since(began)
	codes := map[int]int{}
	for _, k := range outs {
		for _, c := range k.Codes[:len(k.Codes)-1] {
			codes[c]++
		}
	}
	t.Logf("FIGURES nats restart: %d restarts (NATS away %s); %s; answers retried: %v (status: count, 0 = no answer); replay %d events; history %d events gapless, complete %s after the load",
		len(downs), durations(downs), f, codes, rep.Events, events, drained.Round(time.Millisecond))
	t.Logf("FIGURES nats restart: NATS back to a fresh command acknowledged %s", durations(reconnects))
}
