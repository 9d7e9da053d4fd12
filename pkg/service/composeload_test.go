//go:build compose

package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// balances is what every answer and read showed, per wallet and version: one version,
// one balance, whoever was shown it. It also keeps the first problems it saw.
type balances struct {
	mu       sync.Mutex
	seen     map[string]int64 // "wallet/version" -> cents
	problems []string
	n        int
}

func newBalances() *balances { return &balances{seen: map[string]int64{}} }

func (b *balances) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if len(b.problems) < 20 {
		b.problems = append(b.problems, fmt.Sprintf(format, args...))
	}
}

func (b *balances) observe(who, wallet string, version, cents int64) {
	k := fmt.Sprintf("%s/%d", wallet, version)
	b.mu.Lock()
	old, ok := b.seen[k]
	if !ok {
		b.seen[k] = cents
	}
	b.mu.Unlock()
	if ok && old != cents {
		b.problem("%s: wallet %s version %d balance %s, another answer had %s", who, wallet, version, fmtCents(cents), fmtCents(old))
	}
}

// composeLoad is the keyed load of the compose faults: 6 clients send credits (60%) and
// debits of 0.01-20.00, each with its own Idempotency-Key, retried with it until a real
// outcome (runKeyedLoad); 2 readers through the API and 2 straight from Redis read all
// the time, each failing the test if it is served a version older than one it was
// already served, and every balance shown for a version must be the same.
type composeLoad struct {
	stop, readersStop chan struct{}
	stopping          sync.Once // closes stop
	readersOnce       sync.Once // closes readersStop
	done              chan []keyedOutcome
	readers           sync.WaitGroup
	acked             atomic.Int64
	last503           atomic.Int64 // unix nanoseconds of the newest 503 answered
	reads             struct{ api, apiErrors, redis, redisMisses, redisErrors, older atomic.Int64 }
	seen              *balances
}

func startComposeLoad(t testing.TB, cs *composeStack, seen *balances, wallets, readAlso []string) *composeLoad {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("load seed %d", seed)
	l := &composeLoad{stop: make(chan struct{}), readersStop: make(chan struct{}), done: make(chan []keyedOutcome, 1), seen: seen}
	go func() {
		l.done <- runKeyedLoad(func() string { return cs.URL }, wallets, 6, seed, l.stop, func(k keyedOutcome) {
			if k.Code == 200 {
				l.acked.Add(1)
				seen.observe("answer to "+k.Key, k.Wallet, k.Version, k.Balance)
			}
		}, func(code int, at time.Time) {
			if code == 503 {
				l.last503.Store(at.UnixNano())
			}
		})
	}()
	t.Cleanup(l.halt) // a test that failed before finish leaves no clients running
	read := append(append([]string(nil), wallets...), readAlso...)
	for i := range 2 {
		l.readers.Add(2)
		go l.apiReader(cs, read, fmt.Sprintf("API reader %d", i), seed+uint64(i))
		go l.redisReader(cs.redis, read, fmt.Sprintf("Redis reader %d", i), seed+100+uint64(i))
	}
	return l
}

// waitAcked waits until the load has had n commands acknowledged in all.
func (l *composeLoad) waitAcked(t testing.TB, n int64) {
	t.Helper()
	stacktest.Eventually(t, 2*time.Minute, func() error {
		if got := l.acked.Load(); got < n {
			return fmt.Errorf("%d commands acknowledged, waiting for %d", got, n)
		}
		return nil
	})
}

// finish stops the load, waits until every command has its real outcome, and returns
// them; what a reader saw wrong fails the test.
func (l *composeLoad) finish(t testing.TB) []keyedOutcome {
	t.Helper()
	l.stopping.Do(func() { close(l.stop) })
	var outs []keyedOutcome
	select {
	case outs = <-l.done:
	case <-time.After(4 * time.Minute): // each command gives up after a minute
		t.Fatal("the load did not end")
	}
	l.halt()
	l.readers.Wait()
	if l.seen.n > 0 {
		t.Errorf("%d problems seen by the load's clients, e.g. %q", l.seen.n, l.seen.problems)
	}
	return outs
}

// halt stops the clients and the readers (once).
func (l *composeLoad) halt() {
	l.stopping.Do(func() { close(l.stop) })
	l.readersOnce.Do(func() { close(l.readersStop) })
}

func (l *composeLoad) apiReader(cs *composeStack, wallets []string, name string, seed uint64) {
	defer l.readers.Done()
	rng := rand.New(rand.NewPCG(seed, 1))
	newest := map[string]int64{}
	for {
		select {
		case <-l.readersStop:
			return
		case <-time.After(time.Millisecond): // leave the 2 cores to the stack
		}
		w := wallets[rng.IntN(len(wallets))]
		r, err := send("GET", walletURL(cs.api, w), "")
		if err != nil {
			l.reads.apiErrors.Add(1)
			continue
		}
		l.reads.api.Add(1)
		var version int64
		switch r.Code {
		case 200:
			version = r.version()
			l.seen.observe(name, w, version, r.balance())
		case 404:
		case 500:
			l.seen.problem("%s: GET /wallet/%s answered %s", name, w, r)
			continue
		default:
			continue // 502/503 while a part restarts
		}
		if version < newest[w] {
			l.reads.older.Add(1)
			l.seen.problem("%s: wallet %s version %d after %d", name, w, version, newest[w])
		}
		newest[w] = max(newest[w], version)
	}
}

func (l *composeLoad) redisReader(rdb *goredis.Client, wallets []string, name string, seed uint64) {
	defer l.readers.Done()
	rng := rand.New(rand.NewPCG(seed, 2))
	newest := map[string]int64{}
	for {
		select {
		case <-l.readersStop:
			return
		case <-time.After(time.Millisecond):
		}
		w := wallets[rng.IntN(len(wallets))]
		raw, err := rdb.Get(context.Background(), "wallet."+w).Result()
		switch {
		case err == goredis.Nil:
			l.reads.redis.Add(1)
			l.reads.redisMisses.Add(1)
			continue
		case err != nil:
			l.reads.redisErrors.Add(1) // Redis is restarting
			continue
		}
		l.reads.redis.Add(1)
		r := response{Code: 200, Body: []byte(raw)}
		jsonInto(raw, &r.JSON)
		version := r.version()
		l.seen.observe(name, w, version, r.balance())
		if version < newest[w] {
			l.reads.older.Add(1)
			l.seen.problem("%s: wallet %s version %d after %d", name, w, version, newest[w])
		}
		newest[w] = max(newest[w], version)
	}
}

// loadFigures summarises a load's commands and its readers.
func (l *composeLoad) figures(outs []keyedOutcome) string {
	var acked, rejected, retries, retried int
	var slowest time.Duration
	why := map[int]int{}
	for _, k := range outs {
		switch {
		case k.Code == 200:
			acked++
		case k.Code == 422:
			rejected++
		}
		if k.Attempts > 1 {
			retried++
			retries += k.Attempts - 1
		}
		for _, c := range k.Codes[:len(k.Codes)-1] {
			why[c]++
		}
		slowest = max(slowest, k.Slowest)
	}
	var answers []string
	for c, n := range why {
		what := fmt.Sprint(c)
		if c == 0 {
			what = "no answer"
		}
		answers = append(answers, fmt.Sprintf("%s x%d", what, n))
	}
	sort.Strings(answers)
	if len(answers) == 0 {
		answers = []string{"none"}
	}
	return fmt.Sprintf("commands %d, acknowledged (2xx) %d, rejected 422 %d, retries %d (%d commands; answers retried: %s), slowest answer %d ms; reads: %d API (%d transport errors), %d Redis (%d misses, %d errors), older than served %d",
		len(outs), acked, rejected, retries, retried, strings.Join(answers, ", "), slowest.Milliseconds(),
		l.reads.api.Load(), l.reads.apiErrors.Load(), l.reads.redis.Load(), l.reads.redisMisses.Load(), l.reads.redisErrors.Load(), l.reads.older.Load())
}

// firstOK is the time from since to the answer of the first acknowledged attempt sent at
// or after it; false if there is none.
func firstOK(outs []keyedOutcome, since time.Time) (time.Duration, bool) {
	var first time.Duration
	found := false
	for _, k := range outs {
		for i, tr := range k.Tries {
			if k.Codes[i] != 200 || tr.Sent.Before(since) {
				continue
			}
			if d := tr.Sent.Add(tr.Took).Sub(since); !found || d < first {
				first, found = d, true
			}
		}
	}
	return first, found
}
