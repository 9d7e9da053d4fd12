//go:build compose

package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// walletFold is what a wallet's accepted commands in the event log fold to.
type walletFold struct {
	Version, Cents int64
}

// foldLog folds each wallet's accepted commands in the event log, in version order,
// requiring versions 1..n; it also returns the ids of every event the log holds.
func foldLog(t testing.TB, db *sql.DB) (map[string]walletFold, map[string]bool) {
	t.Helper()
	rows, err := db.Query(`SELECT stream, version, command, data, events FROM event WHERE outcome = 'accepted' ORDER BY stream, version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	folds := map[string]walletFold{}
	ids := map[string]bool{}
	for rows.Next() {
		var stream, command, data, events string
		var version int64
		if err := rows.Scan(&stream, &version, &command, &data, &events); err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(stream, "wallet.")
		var d struct {
			Amount json.Number `json:"amount"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			t.Fatalf("%s version %d: data %s: %v", stream, version, data, err)
		}
		c, err := cents(d.Amount.String())
		if err != nil {
			t.Fatalf("%s version %d: %v", stream, version, err)
		}
		f := folds[id]
		if version != f.Version+1 {
			t.Errorf("wallet %s: version %d in the log follows %d (versions are not 1..n)", id, version, f.Version)
		}
		if command == "debit" {
			c = -c
		}
		folds[id] = walletFold{Version: version, Cents: f.Cents + c}
		var envs []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(events), &envs); err != nil {
			t.Fatalf("%s version %d: events %s: %v", stream, version, events, err)
		}
		for _, e := range envs {
			ids[e.ID] = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return folds, ids
}

// newestStates returns each stream's newest state log document.
func newestStates(t testing.TB, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT stream, state FROM state s WHERE version = (SELECT max(version) FROM state WHERE stream = s.stream)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	states := map[string]string{}
	for rows.Next() {
		var stream, state string
		if err := rows.Scan(&stream, &state); err != nil {
			t.Fatal(err)
		}
		states[stream] = state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return states
}

func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// waitRedis waits until Redis holds every stream's newest state log document, equal as
// JSON, and returns when it did.
func waitRedis(t testing.TB, rdb *goredis.Client, states map[string]string) time.Time {
	t.Helper()
	stacktest.Eventually(t, 60*time.Second, func() error {
		differ := 0
		var example string
		for stream, state := range states {
			raw, err := rdb.Get(context.Background(), stream).Result()
			if err != nil && err != goredis.Nil {
				return err // Redis is (re)starting
			}
			if !sameJSON(raw, state) {
				differ++
				example = fmt.Sprintf("%s = %q, state log %s", stream, raw, state)
			}
		}
		if differ > 0 {
			return fmt.Errorf("%d of %d documents differ from the state log, e.g. %s", differ, len(states), example)
		}
		return nil
	})
	return time.Now()
}

// composeCheck is what checkAll counted.
type composeCheck struct {
	keyedFigures
	LogRows, LogEvents, Wallets, History int
}

func (c composeCheck) String() string {
	return fmt.Sprintf("in all so far: %s; event log %d rows, %d events, %d wallets checked; history %d events gapless",
		c.keyedFigures, c.LogRows, c.LogEvents, c.Wallets, c.History)
}

// checkAll checks the stack against every command any client sent so far (outs): the
// event log (checkKeyed: each acknowledged key once, with its version, nothing else),
// the answers and the API (checkWallets), each wallet's accepted commands folding to the
// balance of the state log, Redis and the API, the history (through the router) holding
// exactly the writer's events at gapless positions, and `wallet_writer verify`.
func (cs *composeStack) checkAll(t testing.TB, outs []keyedOutcome, wallets []string) composeCheck {
	t.Helper()
	s := cs.copyDB(t)
	db := walletDB(t, s)
	totals, f := checkKeyed(t, db, outs)
	checkWallets(t, cs.api, totals)
	folds, ids := foldLog(t, db)
	states := newestStates(t, db)
	for _, w := range wallets {
		if _, ok := folds[w]; !ok {
			folds[w] = walletFold{} // written by no command: absent everywhere
		}
	}
	for w, want := range folds {
		docs := map[string]string{"the state log": states["wallet."+w]}
		raw, err := cs.redis.Get(context.Background(), "wallet."+w).Result()
		if err != nil && err != goredis.Nil {
			t.Fatalf("redis GET wallet.%s: %v", w, err)
		}
		docs["Redis"] = raw
		if r := must(t, "GET", walletURL(cs.api, w), ""); r.Code == 200 {
			docs["the API"] = string(r.Body)
		} else {
			docs["the API"] = ""
		}
		for where, doc := range docs {
			var r response
			jsonInto(doc, &r.JSON)
			if want.Version == 0 && doc == "" {
				continue
			}
			if r.version() != want.Version || r.balance() != want.Cents {
				t.Errorf("wallet %s: %s has %q, the event log folds to version %d balance %s", w, where, doc, want.Version, fmtCents(want.Cents))
			}
		}
	}
	c := composeCheck{keyedFigures: f, LogRows: count(t, db, `SELECT count(*) FROM event`), LogEvents: len(ids), Wallets: len(folds)}
	c.History = checkComposeHistory(t, cs.api, ids, folds)
	cs.verifyReplay(t)
	return c
}

// checkComposeHistory waits until the history holds as many wallet events as the
// writer's log, then requires gapless positions 1..n (the queues' events among them),
// each event once, exactly the log's wallet events, in each wallet's version order.
func checkComposeHistory(t testing.TB, api *stacktest.Stack, ids map[string]bool, folds map[string]walletFold) int {
	t.Helper()
	var all, mine []historyEntry
	stacktest.Eventually(t, 60*time.Second, func() error {
		var err error
		if all, err = allHistory(api); err != nil {
			return err
		}
		mine = mine[:0]
		for _, e := range all {
			if strings.HasPrefix(e.Stream, "wallet.") {
				mine = append(mine, e)
			}
		}
		if len(mine) != len(ids) {
			return fmt.Errorf("history holds %d wallet events, the writer's log %d", len(mine), len(ids))
		}
		return nil
	})
	checkGapless(t, all)
	for _, e := range mine {
		if !ids[e.ID] {
			t.Fatalf("history holds event %s (%s version %d), which is not in the writer's log", e.ID, e.Stream, e.Version)
		}
	}
	want := map[string]int64{}
	for w, f := range folds {
		if f.Version > 0 {
			want[w] = f.Version
		}
	}
	checkHistoryStreams(t, mine, want)
	return len(mine)
}
