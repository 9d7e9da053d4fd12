package service_test

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

const (
	writerPkg  = "uneventful.dev/uneventful/services/wallet_writer"
	serverPkg  = "uneventful.dev/uneventful/services/wallet_server"
	historyPkg = "uneventful.dev/uneventful/services/history_writer"
)

// processStack runs the wallet writer, server and history writer as OS processes (the
// binaries of services/*) against the stack's NATS and Redis. The server gives commands
// 1s before answering 504, so clients of a killed writer learn it quickly.
// walletDB, if not "", is where the writer keeps its database.
func processStack(t *testing.T, walletDB string) (s *stacktest.Stack, w, srv, hist *stacktest.Process) {
	t.Helper()
	s = stacktest.StartParts(t)
	if walletDB != "" {
		s.WalletDB = walletDB
	}
	bins := stacktest.Build(t, writerPkg, serverPkg, historyPkg)
	w = s.Process("wallet_writer", bins[writerPkg], "WALLET_DB="+s.WalletDB)
	srv = s.Process("wallet_server", bins[serverPkg], "COMMAND_TIMEOUT=1s")
	hist = s.Process("history_writer", bins[historyPkg], "HISTORY_DB="+s.HistoryDB)
	w.Start()
	srv.Start()
	hist.Start()
	s.URL, s.WriterURL, s.HistoryURL = srv.URL, w.URL, hist.URL
	return s, w, srv, hist
}

// TestCrashSIGKILL kills the writer process (SIGKILL) 24 times during a load of keyed
// credits and debits, and the server and the history writer twice each. Clients retry
// with the same Idempotency-Key after 503, 504 or a broken connection. Afterwards every
// command has its real outcome: each is in the event table exactly once with the outcome
// it was answered with, the accepted ones form one serial history per wallet, the API
// and a replay of the log agree with it, and the history is complete and gapless.
func TestCrashSIGKILL(t *testing.T) {
	s, w, srv, hist := processStack(t, "")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	wallets := newWallets(20)
	stop := make(chan struct{})
	done := make(chan []keyedOutcome)
	go func() { done <- runKeyedLoad(func() string { return srv.URL }, wallets, 12, seed, stop, nil, nil) }()

	const kills = 24
	var restarts, serverRestarts, historyRestarts []time.Duration
	var killed atomic.Int64
	rng := rand.New(rand.NewPCG(seed, 99))
	for i := range kills {
		time.Sleep(time.Duration(150+rng.IntN(300)) * time.Millisecond)
		began := time.Now()
		w.Kill()
		killed.Add(1)
		w.Start()
		restarts = append(restarts, time.Since(began))
		switch i {
		case 7, 15:
			began := time.Now()
			srv.Kill()
			srv.Start()
			serverRestarts = append(serverRestarts, time.Since(began))
		case 11, 19:
			began := time.Now()
			hist.Kill()
			hist.Start()
			historyRestarts = append(historyRestarts, time.Since(began))
		}
	}
	time.Sleep(300 * time.Millisecond) // some load after the last restart
	close(stop)
	outs := <-done

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
	checkHistoryStreams(t, waitHistory(t, s, events), want)
	if f.Acknowledged < 200 || f.Retried == 0 {
		t.Errorf("load too small to mean anything: %s", f)
	}
	t.Logf("FIGURES crash: writer SIGKILLs survived %d, server SIGKILLs %d, history writer SIGKILLs %d; %s; replay %d streams, %d events; history %d events gapless",
		killed.Load(), len(serverRestarts), len(historyRestarts), f, rep.Streams, rep.Events, events)
	t.Logf("FIGURES crash: writer restart (SIGKILL to ready) %s; server %s; history writer %s",
		durations(restarts), durations(serverRestarts), durations(historyRestarts))
}
