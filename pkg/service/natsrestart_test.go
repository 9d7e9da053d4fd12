package service_test

import (
	"sync"
	"testing"
	"time"

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
	var mu sync.Mutex
	var back time.Time             // when NATS came back from the latest restart
	var reconnects []time.Duration // NATS back to the first command acknowledged after it
	stop := make(chan struct{})
	done := make(chan []keyedOutcome)
	go func() {
		done <- runKeyedLoad(func() string { return s.URL }, wallets, 8, seed, stop, func(k keyedOutcome) {
			mu.Lock()
			defer mu.Unlock()
			if k.Code == 200 && !back.IsZero() && k.Answered.After(back) {
				reconnects = append(reconnects, k.Answered.Sub(back))
				back = time.Time{}
			}
		})
	}()
	var downs []time.Duration
	for range 2 {
		time.Sleep(time.Second)
		d := s.RestartNATS(300 * time.Millisecond)
		mu.Lock()
		back = time.Now()
		mu.Unlock()
		downs = append(downs, d)
	}
	time.Sleep(time.Second)
	close(stop)
	outs := <-done
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
	mu.Lock()
	defer mu.Unlock()
	if len(reconnects) != len(downs) {
		t.Errorf("no command was acknowledged after %d of %d NATS restarts", len(downs)-len(reconnects), len(downs))
	}
	t.Logf("FIGURES nats restart: %d restarts (NATS away %s); %s; answers retried: %v (status: count, 0 = no answer); replay %d events; history %d events gapless, complete %s after the load",
		len(downs), durations(downs), f, codes, rep.Events, events, drained.Round(time.Millisecond))
	t.Logf("FIGURES nats restart: NATS back to first command acknowledged %s", durations(reconnects))
}
