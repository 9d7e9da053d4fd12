package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

const queueDomainPkg = "uneventful.dev/uneventful/services/queue_domain"

// relayConfig: a forward-queue moves each message from inbox to credits, a
// forward-service sends each credit to the wallet's writer (target.command) and enqueues
// the new state to receipts. Short leases, so a message a killed forwarder held comes
// back within seconds; retries enough that none reaches an error queue.
const relayConfig = `
domain: relay
queues:
  - {name: inbox, retry: {count: 1000}}
  - {name: credits, retry: {count: 1000}}
  - {name: receipts}
forward:
  queues:
    - {source: inbox, target: {queue: credits}, lease: 2s}
  services:
    - {source: credits, instances: 2, target: {command: wallet.credit, timeout: 1s}, reply: {queue: receipts}, lease: 2s}
`

// TestForwarderSIGKILL runs a queue domain's owner and its forwarders as two processes
// (queue_domain -role owner / -role forwards) beside the wallet stack, and kills the
// forwarders (SIGKILL) 8 times while messages flow: credits enqueued to inbox go on to
// credits, then as wallet credit commands to the writer, then as receipts. Afterwards
// every message enqueued had its effect exactly once: inbox and credits are empty, no
// message is in an error queue, credits and receipts each got one message per message
// enqueued (the forward's dedup key answered every redelivery with the first copy), the
// event log holds each credit once under its message's key, and every wallet's balance
// is the sum of its credits.
func TestForwarderSIGKILL(t *testing.T) {
	s := stacktest.Start(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	cfgPath := filepath.Join(t.TempDir(), "relay.yaml")
	if err := os.WriteFile(cfgPath, []byte(relayConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := stacktest.Build(t, queueDomainPkg)[queueDomainPkg]
	owner := s.Process("queue_owner", bin)
	owner.Args = []string{"-config", cfgPath, "-role", "owner"}
	fwd := s.Process("forwarder", bin)
	fwd.Args = []string{"-config", cfgPath, "-role", "forwards"}
	owner.Start()
	fwd.Start()

	c := queue.NewClient(stacktest.Connect(t, s.NATS))
	ctx := context.Background()
	wallets := newWallets(10)
	sent := make(map[string]int64)  // wallet -> cents enqueued
	count := make(map[string]int64) // wallet -> messages enqueued
	var mu sync.Mutex
	var n int
	stop := make(chan struct{})
	produced := make(chan error)
	go func() {
		rng := rand.New(rand.NewPCG(seed, 1))
		for i := 0; ; i++ {
			select {
			case <-stop:
				produced <- nil
				return
			case <-time.After(10 * time.Millisecond):
			}
			w, cents := wallets[rng.IntN(len(wallets))], 1+rng.Int64N(20_00)
			m := queue.Message{Type: "application/json", Properties: w, Payload: []byte(amountBody(cents))}
			// The owner is never killed; a retry after a timeout keeps its dedup key.
			var err error
			for try := 0; try < 5; try++ {
				if _, err = c.Enqueue(ctx, "inbox", m, queue.EnqueueOptions{Dedup: fmt.Sprintf("load/%d", i)}); err == nil {
					break
				}
			}
			if err != nil {
				produced <- fmt.Errorf("enqueue %d: %w", i, err)
				return
			}
			mu.Lock()
			sent[w] += cents
			count[w]++
			n++
			mu.Unlock()
		}
	}()

	const kills = 8
	var restarts []time.Duration
	rng := rand.New(rand.NewPCG(seed, 2))
	for range kills {
		time.Sleep(time.Duration(300+rng.IntN(400)) * time.Millisecond)
		began := time.Now()
		fwd.Kill()
		fwd.Start()
		restarts = append(restarts, time.Since(began))
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()

	// Drained: leases held by killed forwarders expire (2s) and their messages go on.
	began := time.Now()
	var infos map[string]queue.QueueInfo
	stacktest.Eventually(t, 60*time.Second, func() error {
		qs, err := c.Queues(ctx, 200*time.Millisecond)
		if err != nil {
			return err
		}
		infos = make(map[string]queue.QueueInfo)
		for _, q := range qs {
			infos[q.Name] = q
		}
		if in, cr, rc := infos["inbox"], infos["credits"], infos["receipts"]; in.Count != 0 || cr.Count != 0 || rc.Count < n {
			return stacktest.Errorf("inbox %d, credits %d, receipts %d of %d", in.Count, cr.Count, rc.Count, n)
		}
		return nil
	})
	drained := time.Since(began)
	for _, q := range []string{"inbox", "credits", "receipts", "inbox.error", "credits.error"} {
		want := 0
		switch q {
		case "inbox", "credits", "receipts":
			want = n
		}
		if got := infos[q].Enqueued; got != int64(want) {
			t.Errorf("%s: %d messages enqueued, want %d (one per message sent)", q, got, want)
		}
	}
	receipts, err := c.Browse(ctx, "receipts")
	if err != nil {
		t.Fatal(err)
	}
	if len(receipts) != n {
		t.Fatalf("receipts holds %d messages, want %d", len(receipts), n)
	}

	// The writer applied each credits message once, under its key, and nothing else.
	keys := make(map[string]bool, n)
	for _, r := range receipts {
		keys["queue/"+strings.TrimPrefix(r.Dedup, "credits/")] = true
	}
	db := walletDB(t, s)
	rows, err := db.Query(`SELECT coalesce(idempotency_key, ''), outcome FROM event`)
	if err != nil {
		t.Fatal(err)
	}
	logged, matched := 0, 0
	for rows.Next() {
		var key, outcome string
		if err := rows.Scan(&key, &outcome); err != nil {
			t.Fatal(err)
		}
		logged++
		if !keys[key] || outcome != "accepted" {
			t.Errorf("event log: command with key %q (%s) is not one receipt's credit", key, outcome)
			continue
		}
		matched++
		delete(keys, key)
	}
	rows.Close()
	lost, duplicated := n-matched, logged-matched
	if lost != 0 || duplicated != 0 {
		t.Errorf("event log holds %d commands for %d messages: %d lost, %d duplicated or foreign", logged, n, lost, duplicated)
	}
	totals := make(map[string]*walletTotals)
	for _, w := range wallets {
		totals[w] = &walletTotals{Accepted: count[w], Balance: sent[w]}
	}
	checkWallets(t, s, totals) // each wallet: one credit per message, the sum of their amounts
	verify(t, s)
	redelivered := infos["inbox"].Dequeued + infos["credits"].Dequeued - int64(2*n)
	if n < 100 {
		t.Errorf("only %d messages: load too small to mean anything", n)
	}
	t.Logf("FIGURES forwarder crash: forwarder SIGKILLs survived %d; messages checked %d (each through inbox -> credits -> wallet.credit -> receipts), redelivered %d, lost %d, duplicated %d; forwarder restart (SIGKILL to ready) %s; drained %s after the load",
		kills, n, redelivered, lost, duplicated, durations(restarts), drained.Round(time.Millisecond))
}
