//go:build compose

package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// composeFaults is one run of TestComposeFaults: the stack, the wallets and every
// command any client sent so far (each check is against all of them).
type composeFaults struct {
	cs           *composeStack
	active, idle []string
	seen         *balances
	outs         []keyedOutcome
}

// ackedAround is how many commands the load has acknowledged before a fault, and again
// after it, before it is stopped.
const ackedAround = 200

// TestComposeFaults: faults of the stack under Docker Compose, each during a keyed load
// (composeLoad) of 12 wallets, with 4 more written before the first fault and then only
// read: the cache (Redis, no persistence) restarted, the message broker (NATS) restarted,
// the writer's volume (a small tmpfs) full. After each: every acknowledged command is in
// the event log once, the log holds nothing else, each wallet's accepted commands fold to
// its balance in the state log, Redis and the API, the history holds exactly the writer's
// events, and `wallet_writer verify` replays the log to the state log. Each logs a
// FIGURES line (docs/reliability.md, "Faults under Docker Compose").
//
//	go test -tags compose -run TestComposeFaults -count=1 -timeout 30m -v ./pkg/service
//
// (./test.sh runs it with the Compose it pins, UNEVENTFUL_COMPOSE; -run
// 'TestComposeFaults/(cache|disk)' picks faults.)
func TestComposeFaults(t *testing.T) {
	f := &composeFaults{cs: startCompose(t), active: newWallets(12), idle: newWallets(4), seen: newBalances()}
	warm := startComposeLoad(t, f.cs, f.seen, f.idle, nil)
	warm.waitAcked(t, 20)
	f.outs = append(f.outs, warm.finish(t)...)
	for _, fault := range []struct {
		name string
		run  func(*testing.T)
	}{{"cache", f.cache}, {"nats", f.nats}, {"disk", f.disk}} {
		if !t.Run(fault.name, fault.run) {
			return // the stack is in no state to go on
		}
	}
}

func (f *composeFaults) all() []string { return append(append([]string(nil), f.active...), f.idle...) }

// underLoad runs fault during a keyed load of the active wallets (the idle ones read
// too): the load goes on until ackedAround commands are acknowledged before the fault, and
// as many again after it. It returns the load, for its figures, and its outcomes, which
// join f.outs.
func (f *composeFaults) underLoad(t *testing.T, fault func(*composeLoad)) (*composeLoad, []keyedOutcome) {
	t.Helper()
	load := startComposeLoad(t, f.cs, f.seen, f.active, f.idle)
	load.waitAcked(t, ackedAround)
	fault(load)
	load.waitAcked(t, load.acked.Load()+ackedAround)
	outs := load.finish(t)
	f.outs = append(f.outs, outs...)
	return load, outs
}

// cache: Redis restarted mid-load; afterwards, with no client asking, the writer rebuilds
// every wallet's document, and once more after a restart with no load at all.
func (f *composeFaults) cache(t *testing.T) {
	var up time.Time
	load, outs := f.underLoad(t, func(*composeLoad) { up, _ = f.cs.restart(t, "cache") })
	recovery, ok := firstOK(outs, up)
	if !ok {
		t.Fatal("no write acknowledged after the cache restart")
	}
	states := newestStates(t, walletDB(t, f.cs.copyDB(t)))
	loadEnd := time.Now()
	at := waitRedis(t, f.cs.redis, states)
	t.Logf("every wallet's wallet.<id> equals the writer's state %s after the load (%d documents, idle wallets included)", at.Sub(loadEnd).Round(time.Millisecond), len(states))
	up, _ = f.cs.restart(t, "cache")
	idleRebuild := waitRedis(t, f.cs.redis, states).Sub(up)
	t.Logf("restarted again with no client at all: every document rebuilt by the writer %s after Redis started", idleRebuild.Round(time.Millisecond))
	c := f.cs.checkAll(t, f.outs, f.all())
	t.Logf("FIGURES compose cache restart: %s; %s; recovery %d ms from the restart to the first acknowledged write; read model rebuilt with no client %d ms after a restart",
		load.figures(outs), c, recovery.Milliseconds(), idleRebuild.Milliseconds())
}

// nats: NATS restarted mid-load; the services reconnect and the history ends up holding
// exactly the writer's events.
func (f *composeFaults) nats(t *testing.T) {
	var up time.Time
	var took time.Duration
	load, outs := f.underLoad(t, func(*composeLoad) { up, took = f.cs.restart(t, "message_broker") })
	f.cs.waitReady(t)
	recovery, ok := firstOK(outs, up)
	if !ok {
		t.Fatal("no write acknowledged after the NATS restart")
	}
	c := f.cs.checkAll(t, f.outs, f.all())
	t.Logf("FIGURES compose NATS restart: %s; %s; recovery %d ms from the restart to the first acknowledged write; compose restart took %d ms",
		load.figures(outs), c, recovery.Milliseconds(), took.Milliseconds())
}

// disk: the writer's volume filled mid-load. Fresh writes answer 503 store_unavailable
// (never 500) and the writer logs why, reads go on, nothing refused is in the log; the
// space freed, writes succeed again with no restart, and the refused ones, retried with
// their keys, are applied once.
func (f *composeFaults) disk(t *testing.T) {
	var full diskFull
	load, outs := f.underLoad(t, func(load *composeLoad) { full = f.fillAndFree(t, load) })
	f.outs = append(f.outs, full.probes...)
	sent := append(outs[:len(outs):len(outs)], full.probes...) // the load's and the probes
	recovery, ok := firstOK(sent, full.freed)
	if !ok {
		t.Fatal("no write acknowledged after the space was freed")
	}
	refused := 0
	for _, k := range sent {
		for i, tr := range k.Tries {
			if k.Codes[i] == 503 && !tr.Sent.Before(full.at) && tr.Sent.Before(full.freed) {
				refused++
			}
		}
	}
	n500 := 0
	for _, k := range f.outs {
		for _, c := range k.Codes {
			if c == 500 {
				n500++
			}
		}
	}
	if n500 > 0 {
		t.Fatalf("%d answers were 500", n500)
	}
	c := f.cs.checkAll(t, f.outs, f.all())
	t.Logf("FIGURES compose disk full: %s; %s; recovery %d ms from the space freed to the first acknowledged write (no restart); full for %d ms: %d attempts answered 503 (none 500), reads 200, nothing refused in the log",
		load.figures(outs), c, recovery.Milliseconds(), full.freed.Sub(full.at).Milliseconds(), refused)
}

// diskFull is when the writer's volume was full, and the fresh writes refused then,
// retried with their keys once it was not.
type diskFull struct {
	at, freed time.Time
	probes    []keyedOutcome
}

// fillAndFree fills the writer's volume under the load; once the load's writes are
// answered 503, fresh keyed writes must be answered 503 store_unavailable, a read 200,
// the writer must log why and the refused writes must not be in the log. Then it frees
// the space and retries the refused writes with their keys, each to a 200.
func (f *composeFaults) fillAndFree(t *testing.T, load *composeLoad) diskFull {
	t.Helper()
	cs := f.cs
	fullAt := time.Now()
	df := cs.onVolume(t, "busybox dd if=/dev/zero of=/data/filler bs=64k 2>/dev/null; busybox df -k /data | busybox tail -n 1")
	t.Logf("filled the writer's volume: %s", strings.Join(strings.Fields(df), " "))
	stacktest.Eventually(t, time.Minute, func() error { // the writer refuses the load's writes
		if load.last503.Load() < fullAt.UnixNano() {
			return stacktest.Errorf("no write answered 503 since the volume was filled")
		}
		return nil
	})
	var probes []keyedOutcome
	for range 5 { // fresh keyed commands while the volume is full
		k := sendKeyed(cs.URL, op{Wallet: f.active[0], Kind: "credit", Cents: 1_00}, ksuid.New().String(), 0, nil)
		if k.Code != 503 || k.ErrType != "store_unavailable" {
			t.Fatalf("a write on the full volume answered %d %q (%v), want 503 store_unavailable", k.Code, k.ErrType, k.Err)
		}
		probes = append(probes, k)
	}
	if r := must(t, "GET", walletURL(cs.api, f.active[0], "balance"), ""); r.Code != 200 {
		t.Fatalf("a read while the volume is full: %s", r)
	}
	logs := cs.logs(t, cs.writer)
	i := strings.Index(logs, "database or disk is full")
	if i < 0 {
		t.Fatalf("the writer logged no line saying the disk is full:\n%s", tail(logs, 3000))
	}
	line, _, _ := strings.Cut(logs[strings.LastIndexByte(logs[:i], '\n')+1:], "\n")
	t.Logf("the writer says why: %.300s", line)
	keys := make([]string, len(probes))
	for i, k := range probes {
		keys[i] = "'" + k.Key + "'"
	}
	if n := cs.count(t, "SELECT count(*) AS n FROM event WHERE idempotency_key IN ("+strings.Join(keys, ",")+")"); n != 0 {
		t.Fatalf("%d refused writes are in the event log", n)
	}
	cs.onVolume(t, "busybox rm -f /data/filler")
	freed := time.Now()
	t.Logf("freed the space after %s full", freed.Sub(fullAt).Round(time.Millisecond))
	for i, k := range probes { // retried with their keys: their real outcome, once
		k2 := sendKeyed(cs.URL, k.op, k.Key, 30*time.Second, nil)
		if k2.Code != 200 {
			t.Fatalf("retry of %s answered %d %q (%v) 30 s after the space was freed", k.Key, k2.Code, k2.ErrType, k2.Err)
		}
		k2.Attempts += k.Attempts
		k2.Codes, k2.Tries = append(k.Codes, k2.Codes...), append(k.Tries, k2.Tries...)
		probes[i] = k2
	}
	return diskFull{at: fullAt, freed: freed, probes: probes}
}
