package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/readmodel/redis"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// transactions reads all of a wallet's transactions, page by page (newest first, following
// next_before), and returns their versions.
func transactions(t testing.TB, s *stacktest.Stack, id string, limit int) []int64 {
	t.Helper()
	var versions []int64
	url := fmt.Sprintf("%s?limit=%d", walletURL(s, id, "transactions"), limit)
	for page := 0; ; page++ {
		r := must(t, "GET", url, "")
		if r.Code != 200 || r.JSON["id"] != id {
			t.Fatalf("transactions of %s: %s", id, r)
		}
		var body struct {
			Transactions []struct {
				Version int64  `json:"version"`
				Stream  string `json:"stream"`
				Type    string `json:"type"`
			} `json:"transactions"`
			NextBefore int64 `json:"next_before"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Transactions) > limit {
			t.Fatalf("page of %d transactions with limit %d", len(body.Transactions), limit)
		}
		for _, tx := range body.Transactions {
			if tx.Stream != "wallet."+id || (tx.Type != "credited" && tx.Type != "debited") {
				t.Fatalf("transaction %+v of wallet %s", tx, id)
			}
			versions = append(versions, tx.Version)
		}
		if body.NextBefore == 0 {
			return versions
		}
		if page > 10_000 {
			t.Fatal("transactions do not end")
		}
		url = fmt.Sprintf("%s?limit=%d&before=%d", walletURL(s, id, "transactions"), limit, body.NextBefore)
	}
}

// requireAllTransactions requires the versions n, n-1, ..., 1.
func requireAllTransactions(t testing.TB, versions []int64, n int64) {
	t.Helper()
	if int64(len(versions)) != n {
		t.Errorf("%d transactions, want %d: %v", len(versions), n, head(versions))
		return
	}
	for i, v := range versions {
		if v != n-int64(i) {
			t.Errorf("transaction %d has version %d, want %d (newest first, no gap): %v", i, v, n-int64(i), head(versions))
			return
		}
	}
}

func head(v []int64) []int64 { return v[:min(len(v), 12)] }

// writeWallet sends n alternating credits (1.00..) and small debits to a new wallet and
// returns it with its final version and balance.
func writeWallet(t testing.TB, s *stacktest.Stack, n int) (string, int64, int64) {
	t.Helper()
	id := newWallet()
	var bal int64
	for i := range n {
		if i%3 == 2 {
			r := must(t, "POST", walletURL(s, id, "debit"), `{"amount": 0.5}`)
			if r.Code != 200 {
				t.Fatalf("debit: %s", r)
			}
			bal -= 50
		} else {
			c := int64(100 + i)
			credit(t, s, id, c)
			bal += c
		}
	}
	return id, int64(n), bal
}

// TestReadModelRebuild: after Redis loses everything, reads rebuild the read model from
// the writer: same documents, all transactions, and the Redis keys are back.
func TestReadModelRebuild(t *testing.T) {
	s := stacktest.Start(t)
	rdb := redisClient(t, s)
	ctx := context.Background()
	type wal struct {
		id       string
		n, bal   int64
		doc, raw string
	}
	var ws []*wal
	for _, n := range []int{25, 7, 1} {
		id, v, bal := writeWallet(t, s, n)
		w := &wal{id: id, n: v, bal: bal}
		w.doc = strings.TrimSpace(string(must(t, "GET", walletURL(s, id), "").Body))
		raw, err := rdb.Get(ctx, "wallet."+id).Result()
		if err != nil {
			t.Fatalf("redis GET wallet.%s: %v", id, err)
		}
		w.raw = raw
		if raw != w.doc {
			t.Errorf("Redis holds %s, the API shows %s", raw, w.doc)
		}
		var d struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
			Balance string `json:"balance"`
		}
		if err := json.Unmarshal([]byte(raw), &d); err != nil || d.ID != id || d.Version != v || d.Balance != fmtCents(bal) {
			t.Errorf("Redis wallet.%s = %s, want version %d balance %s (%v)", id, raw, v, fmtCents(bal), err)
		}
		requireAllTransactions(t, transactions(t, s, id, 10), v)
		ws = append(ws, w)
	}

	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// The first wallet is read through /balance, the second through /transactions first.
	r := must(t, "GET", walletURL(s, ws[0].id, "balance"), "")
	if r.Code != 200 || strings.TrimSpace(string(r.Body)) != ws[0].doc || r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, ws[0].n) {
		t.Errorf("balance after FLUSHALL: %s ETag %s, before %s", r, r.Header.Get("ETag"), ws[0].doc)
	}
	requireAllTransactions(t, transactions(t, s, ws[0].id, 10), ws[0].n)
	requireAllTransactions(t, transactions(t, s, ws[1].id, 1000), ws[1].n)
	for _, w := range ws {
		r := must(t, "GET", walletURL(s, w.id), "")
		if r.Code != 200 || strings.TrimSpace(string(r.Body)) != w.doc {
			t.Errorf("wallet after FLUSHALL: %s, before %s", r, w.doc)
		}
		stacktest.Eventually(t, 5*time.Second, func() error {
			raw, err := rdb.Get(ctx, "wallet."+w.id).Result()
			if err != nil {
				return err
			}
			if raw != w.raw {
				return stacktest.Errorf("Redis wallet.%s = %s, before FLUSHALL %s", w.id, raw, w.raw)
			}
			return nil
		})
		n, err := rdb.ZCard(ctx, "wallet."+w.id+".events").Result()
		if err != nil || n != w.n {
			t.Errorf("Redis holds %d events of %s after the rebuild, want %d (%v)", n, w.id, w.n, err)
		}
	}
	// A rebuilt read model takes new writes.
	r = credit(t, s, ws[2].id, 1)
	if r.version() != ws[2].n+1 || r.balance() != ws[2].bal+1 {
		t.Errorf("credit after the rebuild: %s", r)
	}
	requireAllTransactions(t, transactions(t, s, ws[2].id, 1000), ws[2].n+1)
}

// TestReadModelWriteAfterFlush: Redis loses everything (e.g. restarted without
// persistence), then a write comes before any read. The write's update must not leave a
// read model that looks complete but misses the older events.
func TestReadModelWriteAfterFlush(t *testing.T) {
	s := stacktest.Start(t)
	rdb := redisClient(t, s)
	id, n, bal := writeWallet(t, s, 12)
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	r := credit(t, s, id, 1_00)
	if r.version() != n+1 || r.balance() != bal+1_00 {
		t.Fatalf("credit after FLUSHALL: %s", r)
	}
	if r := must(t, "GET", walletURL(s, id, "balance"), ""); r.version() != n+1 || r.balance() != bal+1_00 {
		t.Errorf("balance: %s", r)
	}
	requireAllTransactions(t, transactions(t, s, id, 100), n+1)
}

// TestReadModelNeverRegresses: while 8 clients credit one wallet, readers through the API
// and straight from Redis never see its version go back, and every document they see is
// consistent (all credits are 1.00, so balance = version); Redis loses everything once in
// the middle.
func TestReadModelNeverRegresses(t *testing.T) {
	s := stacktest.Start(t)
	rdb := redisClient(t, s)
	ctx := context.Background()
	id := newWallet()
	const writers, perWriter = 8, 40
	total := int64(writers * perWriter)

	var written sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	var ok atomic.Int64
	third := make(chan struct{}) // closed once a third of the credits are accepted
	for range writers {
		written.Add(1)
		go func() {
			defer written.Done()
			for range perWriter {
				r, err := send("POST", walletURL(s, id, "credit"), `{"amount": 1}`)
				if err != nil || r.Code != 200 {
					report("credit: %v %s", err, r)
					continue
				}
				if ok.Add(1) == total/3 {
					close(third)
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { written.Wait(); close(writersDone) }()
	done := make(chan struct{})
	var readers sync.WaitGroup
	consistent := func(who string, version, balance int64) {
		if balance != version*100 {
			report("%s: version %d with balance %s", who, version, fmtCents(balance))
		}
	}
	for i := range 6 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var last int64
			for {
				select {
				case <-done:
					return
				default:
				}
				r, err := send("GET", walletURL(s, id), "")
				switch {
				case err != nil:
					report("reader %d: %v", i, err)
					return
				case r.Code == 404 && last == 0:
					continue
				case r.Code != 200:
					report("reader %d: %s", i, r)
					return
				}
				v := r.version()
				if v < last {
					report("reader %d: version %d after %d", i, v, last)
				}
				consistent(fmt.Sprintf("reader %d", i), v, r.balance())
				last = v
			}
		}()
	}
	readers.Add(1)
	go func() { // straight from Redis
		defer readers.Done()
		var last int64
		for {
			select {
			case <-done:
				return
			default:
			}
			raw, err := rdb.Get(ctx, "wallet."+id).Result()
			if err == goredis.Nil {
				continue
			}
			if err != nil {
				report("redis: %v", err)
				return
			}
			var d struct {
				Version int64  `json:"version"`
				Balance string `json:"balance"`
			}
			if err := json.Unmarshal([]byte(raw), &d); err != nil {
				report("redis: %s: %v", raw, err)
				return
			}
			if d.Version < last {
				report("redis: version %d after %d", d.Version, last)
			}
			c, _ := cents(d.Balance)
			consistent("redis", d.Version, c)
			last = d.Version
		}
	}()

	select {
	case <-third:
	case <-writersDone:
	}
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	<-writersDone
	close(done)
	readers.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	r := must(t, "GET", walletURL(s, id), "")
	if r.version() != total || r.balance() != total*100 {
		t.Errorf("final wallet: %s, want version %d", r, total)
	}
	raw, err := rdb.Get(ctx, "wallet."+id).Result()
	if err != nil || !strings.Contains(raw, fmt.Sprintf(`"version":%d,`, total)) {
		t.Errorf("Redis after the load: %s %v", raw, err)
	}
	verify(t, s)
}

// TestReadModelEventsOnlyUpdate: an update that carries only events (what a rebuild
// writes before the document) never creates or changes the state document; otherwise a
// reader during a rebuild finds an empty "document" and gets a 200 with an empty body.
func TestReadModelEventsOnlyUpdate(t *testing.T) {
	addr := stacktest.Redis(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	p := redis.New(rdb)
	ctx := context.Background()
	ev := func(v int64) redis.Entry {
		return redis.Entry{Version: v, JSON: []byte(fmt.Sprintf(`{"version":%d}`, v))}
	}

	if err := p.Apply(ctx, []redis.Update{{Key: "wallet.a", Events: []redis.Entry{ev(1), ev(2)}}}); err != nil {
		t.Fatal(err)
	}
	if doc, ok, err := p.Get(ctx, "wallet.a"); err != nil || ok {
		t.Errorf("after an events-only update: document %q, found %v, err %v; want no document", doc, ok, err)
	}
	if n, _ := rdb.ZCard(ctx, redis.EventsKey("wallet.a")).Result(); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
	doc := []byte(`{"id":"a","version":2,"balance":"1.00"}`)
	if err := p.Apply(ctx, []redis.Update{{Key: "wallet.a", Version: 2, Doc: doc, Complete: true}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(ctx, []redis.Update{{Key: "wallet.a", Events: []redis.Entry{ev(1)}}}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := p.Get(ctx, "wallet.a"); err != nil || !ok || string(got) != string(doc) {
		t.Errorf("document %q (found %v, err %v), want %s", got, ok, err, doc)
	}
}
