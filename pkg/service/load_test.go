package service_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/ksuid"
)

// keyedOutcome is the final answer to one command of a keyed load.
type keyedOutcome struct {
	outcome
	Key      string
	Attempts int           // requests sent (1 + retries)
	Latency  time.Duration // from the first attempt to the final answer
	Codes    []int         // the status of each attempt (0: no answer)
	Slowest  time.Duration // the slowest single attempt
	Answered time.Time     // when the final answer came
	Tries    []try         // each attempt, in order (Codes[i] is Tries[i]'s status)
}

// try is one attempt of a keyed command: when it was sent and how long its answer took.
type try struct {
	Sent time.Time
	Took time.Duration
}

// retryable reports whether an answer leaves the outcome open: the client retries with
// the same Idempotency-Key (503 nothing applied, 504 unknown, or no answer at all).
func retryable(r response, err error) bool {
	return err != nil || r.Code == 503 || r.Code == 504 || r.Code == 502
}

// sendKeyed sends a command with its Idempotency-Key until the answer is final or giveUp
// passes, pausing briefly between attempts. The outcome's Err is the last transport error
// if no final answer came. tried, if not nil, sees the status of every attempt as it is
// answered (0: no answer).
func sendKeyed(base string, o op, key string, giveUp time.Duration, tried func(code int, at time.Time)) keyedOutcome {
	began := time.Now()
	k := keyedOutcome{outcome: outcome{op: o}, Key: key}
	for {
		k.Attempts++
		sent := time.Now()
		r, err := send("POST", base+"/wallet/"+o.Wallet+"/"+o.Kind, amountBody(o.Cents), "Idempotency-Key", key)
		k.Code, k.ErrType, k.Version, k.Balance, k.Err = r.Code, r.errType(), r.version(), r.balance(), err
		took := time.Since(sent)
		k.Codes, k.Slowest, k.Answered = append(k.Codes, r.Code), max(k.Slowest, took), time.Now()
		k.Tries = append(k.Tries, try{Sent: sent, Took: took})
		if tried != nil {
			tried(r.Code, k.Answered)
		}
		if !retryable(r, err) || time.Since(began) > giveUp {
			if err == nil && retryable(r, nil) {
				k.Err = fmt.Errorf("%s %s: still %s after %s", o.Kind, o.Wallet, r, giveUp)
			}
			k.Latency = time.Since(began)
			return k
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runKeyedLoad sends random keyed credits (60%) and debits of up to 20.00 over wallets
// from clients goroutines until stop is closed, each command retried with its key until
// its answer is final (sendKeyed, giving up after 60s). base() is the server's URL;
// observe, if not nil, sees each final answer as it comes (from any client goroutine),
// tried, if not nil, every attempt's (sendKeyed).
func runKeyedLoad(base func() string, wallets []string, clients int, seed uint64, stop <-chan struct{}, observe func(keyedOutcome), tried func(code int, at time.Time)) []keyedOutcome {
	var mu sync.Mutex
	var outs []keyedOutcome
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				o := randomOps(rng, wallets, 1, 0.6, 20_00)[0]
				k := sendKeyed(base(), o, ksuid.New().String(), time.Minute, tried)
				if observe != nil {
					observe(k)
				}
				mu.Lock()
				outs = append(outs, k)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return outs
}

// keyedFigures is what checkKeyed counted.
type keyedFigures struct {
	Commands, Acknowledged, Retried, Lost, Duplicated int
}

func (f keyedFigures) String() string {
	return fmt.Sprintf("commands %d, acknowledged (2xx) %d, answered after a retry %d, lost %d, duplicated %d",
		f.Commands, f.Acknowledged, f.Retried, f.Lost, f.Duplicated)
}

// checkKeyed checks a keyed load against the event table: every command got a final
// answer (200, or 422 insufficient_funds), the accepted ones form one serial history per
// wallet (checkOutcomes), every command's key is in the log exactly once with the outcome
// and version it was answered with, and the log holds nothing else. It returns the
// totals per wallet and the figures.
func checkKeyed(t testing.TB, db *sql.DB, outs []keyedOutcome) (map[string]*walletTotals, keyedFigures) {
	t.Helper()
	plain := make([]outcome, len(outs))
	for i, k := range outs {
		plain[i] = k.outcome
	}
	totals := checkOutcomes(t, plain)
	type logged struct {
		n       int
		outcome string
		version int64
	}
	rows, err := db.Query(`SELECT stream, coalesce(idempotency_key, ''), outcome, coalesce(version, 0) FROM event`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	log := make(map[string]*logged)
	unkeyed := 0
	for rows.Next() {
		var stream, key, oc string
		var v int64
		if err := rows.Scan(&stream, &key, &oc, &v); err != nil {
			t.Fatal(err)
		}
		if key == "" {
			unkeyed++
			continue
		}
		k := strings.TrimPrefix(stream, "wallet.") + "/" + key
		if l := log[k]; l != nil {
			l.n++
		} else {
			log[k] = &logged{n: 1, outcome: oc, version: v}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	f := keyedFigures{Commands: len(outs)}
	var bad []string
	for _, k := range outs {
		if k.Attempts > 1 {
			f.Retried++
		}
		if k.Code == 200 {
			f.Acknowledged++
		}
		l := log[k.Wallet+"/"+k.Key]
		switch {
		case l == nil:
			f.Lost++
			bad = append(bad, fmt.Sprintf("%s %s (key %s) answered %d is not in the log", k.Kind, k.Wallet, k.Key, k.Code))
			continue
		case l.n > 1:
			f.Duplicated++
			bad = append(bad, fmt.Sprintf("%s %s (key %s) is in the log %d times", k.Kind, k.Wallet, k.Key, l.n))
		case k.Code == 200 && (l.outcome != "accepted" || l.version != k.Version):
			bad = append(bad, fmt.Sprintf("%s %s (key %s) answered version %d, the log says %s version %d", k.Kind, k.Wallet, k.Key, k.Version, l.outcome, l.version))
		case k.Code == 422 && l.outcome != "rejected":
			bad = append(bad, fmt.Sprintf("%s %s (key %s) answered 422, the log says %s", k.Kind, k.Wallet, k.Key, l.outcome))
		}
		delete(log, k.Wallet+"/"+k.Key)
	}
	if len(log) > 0 || unkeyed > 0 {
		bad = append(bad, fmt.Sprintf("the log holds %d commands no client sent (and %d without a key)", len(log), unkeyed))
	}
	if len(bad) > 0 {
		t.Errorf("%d problems in the log, e.g. %q", len(bad), bad[:min(len(bad), 5)])
	}
	return totals, f
}

// durations summarises recovery times: count, median and max.
func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) <= 3 {
		var parts []string
		for _, d := range s {
			parts = append(parts, d.Round(time.Millisecond).String())
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("n=%d median %s max %s", len(s), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// newWallets returns n fresh wallet ids.
func newWallets(n int) []string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = newWallet()
	}
	return ws
}

// jsonInto decodes a JSON object, leaving v nil if raw is not one.
func jsonInto(raw string, v *map[string]any) { json.Unmarshal([]byte(raw), v) } //nolint:errcheck
