package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/domains/lock"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// outcome is what a client was told about one acquire.
type clientOutcome struct {
	holder string
	status int
	errTyp string
	token  int64
	waited bool
}

// Twenty clients contend for one lock for a minute with random holds, renewals and give-ups (a holder
// that lets its lease run out) while the writer process is SIGKILLed several times. From
// the lock's event log afterwards: never two unexpired holders, grants in the FIFO order
// of waiting, every wait granted or ended; and every grant a client was told of is in the
// log.
func TestContentionWithWriterKills(t *testing.T) {
	if testing.Short() {
		t.Skip("a run of over a minute")
	}
	const name, clients, run, kills = "jepsen.lock", 20, time.Minute, 6
	parts := stacktest.StartParts(t)
	bin := stacktestBuild(t, "uneventful.dev/uneventful/services/lock_writer")
	db := filepath.Join(t.TempDir(), "lock.db")
	w := parts.Process("lock_writer", bin, "LOCK_DB="+db)
	w.Start()
	url, _ := parts.RunService("lock_server", func(ctx context.Context, c service.Common) error {
		return service.RunServer(ctx, service.ServerConfig{Common: c, CommandTimeout: 2 * time.Second}, lock.Domain{})
	})
	stacktest.WaitReady(t, url)
	s := &lockStack{Stack: parts, t: t, url: url}

	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var mu sync.Mutex
	var told []clientOutcome
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for n := 0; ctx.Err() == nil; n++ {
				holder := fmt.Sprintf("c%d-%d", c, n)
				wait := rng.IntN(4) != 0
				ttl := time.Duration(300+rng.IntN(900)) * time.Millisecond
				path := fmt.Sprintf("%s/lock/%s/acquire?timeout=%dms", url, name, 300+rng.IntN(2700))
				r := do(context.Background(), t, http.MethodPost, path, fmt.Sprintf(`{"holder":%q,"ttl":%q,"wait":%v}`, holder, ttl, wait))
				o := clientOutcome{holder: holder, status: r.status, errTyp: r.errType(), token: r.token(), waited: wait}
				mu.Lock()
				told = append(told, o)
				mu.Unlock()
				if r.status != 200 {
					if r.status >= 500 { // the writer is down: back off a little
						time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
					}
					continue
				}
				for renewals := rng.IntN(3); renewals > 0 && ctx.Err() == nil; renewals-- {
					time.Sleep(ttl / 3)
					do(context.Background(), t, http.MethodPost, url+"/lock/"+name+"/renew", fmt.Sprintf(`{"holder":%q,"token":%d,"ttl":%q}`, holder, o.token, ttl))
				}
				time.Sleep(time.Duration(rng.IntN(int(ttl/time.Millisecond/2))) * time.Millisecond)
				if rng.IntN(5) != 0 { // else give up: the lease expires
					do(context.Background(), t, http.MethodPost, url+"/lock/"+name+"/release", fmt.Sprintf(`{"holder":%q,"token":%d}`, holder, o.token))
				}
			}
		}()
	}
	for i := range kills {
		select {
		case <-ctx.Done():
		case <-time.After(run / (kills + 1)):
		}
		if ctx.Err() != nil {
			break
		}
		w.Kill()
		t.Logf("writer SIGKILLed (%d)", i+1)
		time.Sleep(time.Duration(200+100*i) * time.Millisecond) // down for a while: leases end meanwhile
		w.Start()
	}
	wg.Wait()
	// Every wait is settled once the last timers fired: no waiter, no holder left.
	stacktest.Eventually(t, 30*time.Second, func() error {
		r := s.get(name)
		if ws, _ := r.body["waiters"].([]any); len(ws) > 0 || r.body["holder"] != nil {
			return stacktest.Errorf("lock still busy: %s", r.raw)
		}
		return nil
	})
	version := int64(s.get(name).body["version"].(float64))
	events := s.readEnvelopes(name, int(version))
	stats := checkLockLog(t, events)
	grants := map[string]int64{}
	for _, e := range events {
		if e.Type == lock.EventAcquired {
			var d struct {
				Holder string `json:"holder"`
				Token  int64  `json:"token"`
			}
			json.Unmarshal(e.Data, &d) //nolint:errcheck
			grants[d.Holder] = d.Token
		}
	}
	counts := map[string]int{}
	for _, o := range told {
		key := fmt.Sprint(o.status, " ", o.errTyp)
		counts[key]++
		switch {
		case o.status == 200:
			if tok, ok := grants[o.holder]; !ok || tok != o.token {
				t.Errorf("%s was told token %d; the log grants it %d (%v)", o.holder, o.token, tok, ok)
			}
		case o.status == 409 && (o.errTyp == "wait_timeout" || o.errTyp == "locked"):
			if _, ok := grants[o.holder]; ok {
				t.Errorf("%s was told %s but the log grants it the lock", o.holder, o.errTyp)
			}
		case o.status == 503 || o.status == 504: // the writer was down: the outcome is unknown
		default:
			t.Errorf("%s: unexpected answer %d %s", o.holder, o.status, o.errTyp)
		}
	}
	t.Logf("%d acquires: %v; log: %d events, %s", len(told), counts, len(events), stats)
	if counts["200 "] < 20 || stats.expired == 0 || stats.waitedGrants == 0 {
		t.Fatalf("too little contention to prove anything: %v, %s", counts, stats)
	}
}

type logStats struct{ grants, waitedGrants, expired, released, waitEnded, renewed int }

func (l logStats) String() string {
	return fmt.Sprintf("%d grants (%d to waiters), %d renewals, %d releases, %d expiries, %d waits ended",
		l.grants, l.waitedGrants, l.renewed, l.released, l.expired, l.waitEnded)
}

// checkLockLog checks a lock's whole event log: versions 1..n in order; a grant only to
// a free lock, at or after the end of the lease before it (its release, or its expiry at
// or after its last expiry time); a renewal only within the lease; tokens strictly
// growing; a grant to a waiter only to the first one waiting, and at once to a newcomer
// only when nobody waits; every wait granted or ended.
func checkLockLog(t *testing.T, events []envelope) logStats {
	t.Helper()
	var st logStats
	type lease struct {
		holder  string
		token   int64
		expires time.Time
	}
	var cur *lease
	var queue []int64
	var lastToken int64
	var freeSince time.Time
	for i, e := range events {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d", i+1, e.Version)
		}
		var d struct {
			Holder  string    `json:"holder"`
			Token   int64     `json:"token"`
			Expires time.Time `json:"expires"`
			Wait    int64     `json:"wait"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		switch e.Type {
		case lock.EventAcquired:
			st.grants++
			if cur != nil {
				t.Fatalf("v%d grants token %d while token %d is held", e.Version, d.Token, cur.token)
			}
			if e.Time.Before(freeSince) {
				t.Fatalf("v%d grants at %s, before the previous lease ended (%s)", e.Version, e.Time, freeSince)
			}
			if d.Token <= lastToken {
				t.Fatalf("v%d grants token %d after token %d", e.Version, d.Token, lastToken)
			}
			if d.Wait > 0 {
				st.waitedGrants++
				if len(queue) == 0 || queue[0] != d.Wait {
					t.Fatalf("v%d grants wait %d; the queue is %v (FIFO)", e.Version, d.Wait, queue)
				}
				queue = queue[1:]
			} else if len(queue) > 0 {
				t.Fatalf("v%d grants a newcomer while %v wait", e.Version, queue)
			}
			lastToken, cur = d.Token, &lease{d.Holder, d.Token, d.Expires}
		case lock.EventRenewed:
			st.renewed++
			if cur == nil || cur.token != d.Token || e.Time.After(cur.expires) {
				t.Fatalf("v%d renews token %d outside its lease (%+v)", e.Version, d.Token, cur)
			}
			cur.expires = d.Expires
		case lock.EventReleased, lock.EventExpired:
			if cur == nil || cur.token != d.Token {
				t.Fatalf("v%d ends token %d, not the lease held (%+v)", e.Version, d.Token, cur)
			}
			freeSince = e.Time
			if e.Type == lock.EventExpired {
				st.expired++
				if e.Time.Before(cur.expires) {
					t.Fatalf("v%d expires token %d at %s, before its lease's end %s", e.Version, d.Token, e.Time, cur.expires)
				}
			} else {
				st.released++
				if e.Time.After(cur.expires) {
					t.Fatalf("v%d releases token %d at %s, after its lease ended %s", e.Version, d.Token, e.Time, cur.expires)
				}
			}
			cur = nil
		case lock.EventWaiting:
			if d.Wait != e.Version {
				t.Fatalf("v%d: a wait named %d", e.Version, d.Wait)
			}
			queue = append(queue, d.Wait)
		case lock.EventWaitEnded:
			st.waitEnded++
			i := indexOf(queue, d.Wait)
			if i < 0 {
				t.Fatalf("v%d ends wait %d, not waiting (%v)", e.Version, d.Wait, queue)
			}
			queue = append(queue[:i], queue[i+1:]...)
		default:
			t.Fatalf("v%d: unknown event %s", e.Version, e.Type)
		}
	}
	if len(queue) > 0 {
		t.Fatalf("waits never granted nor ended: %v", queue)
	}
	return st
}

func indexOf(s []int64, v int64) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
