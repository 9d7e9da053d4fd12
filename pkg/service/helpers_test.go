package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/stacktest"
	"uneventful.dev/uneventful/pkg/writer"
)

// httpc is shared by every test: many concurrent clients reuse their connections.
var httpc = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	},
}

// response is an HTTP answer: status, raw body, headers and the body decoded as a JSON
// object (nil if it is not one).
type response struct {
	Code   int
	Body   []byte
	Header http.Header
	JSON   map[string]any
}

// errType returns error.type of an error body ("" if there is none).
func (r response) errType() string {
	e, _ := r.JSON["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

// errMessage returns error.message of an error body ("" if there is none).
func (r response) errMessage() string {
	e, _ := r.JSON["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// version returns the "version" of a state document body (-1 if absent).
func (r response) version() int64 {
	v, ok := r.JSON["version"].(float64)
	if !ok {
		return -1
	}
	return int64(v)
}

// balance returns the "balance" of a wallet document body in cents (-1 if absent or bad).
func (r response) balance() int64 {
	s, _ := r.JSON["balance"].(string)
	c, err := cents(s)
	if err != nil {
		return -1
	}
	return c
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.Code, strings.TrimSpace(string(r.Body)))
}

// send makes one request; safe to call from any goroutine. header holds name, value pairs.
func send(method, url, body string, header ...string) (response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(req)
}

func do(req *http.Request) (response, error) {
	resp, err := httpc.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL, err)
	}
	r := response{Code: resp.StatusCode, Body: b, Header: resp.Header}
	json.Unmarshal(b, &r.JSON) //nolint:errcheck // checked by the callers that need JSON
	return r, nil
}

// must is send for the test goroutine: a transport error or a body that is not a JSON
// object fails the test.
func must(t testing.TB, method, url, body string, header ...string) response {
	t.Helper()
	r, err := send(method, url, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	if r.JSON == nil {
		t.Fatalf("%s %s: body is not a JSON object: %s", method, url, r)
	}
	return r
}

// newWallet returns a fresh wallet id (a KSUID).
func newWallet() string { return ksuid.New().String() }

// walletURL returns the URL of a wallet, plus an optional sub-resource.
func walletURL(s *stacktest.Stack, id string, sub ...string) string {
	u := s.URL + "/wallet/" + id
	for _, p := range sub {
		u += "/" + p
	}
	return u
}

// amountBody returns {"amount": <cents as a decimal>}.
func amountBody(c int64) string { return `{"amount": ` + fmtCents(c) + `}` }

// cents parses a decimal with at most two places ("12.30") into hundredths, exactly.
func cents(s string) (int64, error) {
	ip, fp, _ := strings.Cut(s, ".")
	if len(fp) > 2 || ip == "" {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	i, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	f := int64(0)
	if fp != "" {
		if f, err = strconv.ParseInt((fp + "0")[:2], 10, 64); err != nil {
			return 0, fmt.Errorf("bad amount %q", s)
		}
	}
	return i*100 + f, nil
}

// fmtCents formats hundredths as a decimal with two places.
func fmtCents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// credit credits a wallet from the test goroutine and requires a 200.
func credit(t testing.TB, s *stacktest.Stack, id string, c int64, header ...string) response {
	t.Helper()
	r := must(t, "POST", walletURL(s, id, "credit"), amountBody(c), header...)
	if r.Code != 200 {
		t.Fatalf("credit %s %s: %s", id, fmtCents(c), r)
	}
	return r
}

// walletDB opens the writer's SQLite file read-only; closed at the end of the test.
func walletDB(t testing.TB, s *stacktest.Stack) *sql.DB {
	t.Helper()
	db, err := sqlite.OpenDB(s.WalletDB, true, sqlite.Options{})
	if err != nil {
		t.Fatalf("open %s read-only: %v", s.WalletDB, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count runs a SELECT count(*) ... on db.
func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// latestState returns the newest state log document of a wallet ("" if none).
func latestState(t testing.TB, db *sql.DB, id string) string {
	t.Helper()
	var doc string
	err := db.QueryRow(`SELECT state FROM state WHERE stream = ? ORDER BY version DESC LIMIT 1`, "wallet."+id).Scan(&doc)
	if err == sql.ErrNoRows {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// verify replays the writer's event log and requires it to match its state log.
// It returns the report (streams and events replayed).
func verify(t testing.TB, s *stacktest.Stack) writer.Report {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, s.WalletDB, sqlite.Options{BusyTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer store.Close()
	rep, err := writer.Verify(ctx, store, wallet.Domain{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !rep.OK() {
		t.Fatalf("verify: %d mismatches, e.g. %v", len(rep.Mismatches), rep.Mismatches[0])
	}
	return rep
}

// redisClient returns a client of the stack's Redis; closed at the end of the test.
func redisClient(t testing.TB, s *stacktest.Stack) *goredis.Client {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: s.RedisAddr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// historyEntry is one event of GET /history.
type historyEntry struct {
	Position  int64  `json:"position"`
	ID        string `json:"id"`
	Stream    string `json:"stream"`
	Version   int64  `json:"version"`
	Type      string `json:"type"`
	CommandID string `json:"command_id"`
}

type historyPage struct {
	Events []historyEntry `json:"events"`
	Newest int64          `json:"newest"`
	Next   int64          `json:"next"`
}

// historyPageAt fetches one page of the history.
func historyPageAt(s *stacktest.Stack, after int64, limit int) (historyPage, error) {
	r, err := send("GET", fmt.Sprintf("%s/history?after=%d&limit=%d", s.HistoryURL, after, limit), "")
	if err != nil {
		return historyPage{}, err
	}
	if r.Code != 200 {
		return historyPage{}, fmt.Errorf("history: %s", r)
	}
	var p historyPage
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return historyPage{}, fmt.Errorf("history: %v: %s", err, r)
	}
	return p, nil
}

// allHistory reads the whole history, page by page.
func allHistory(s *stacktest.Stack) ([]historyEntry, error) {
	var all []historyEntry
	var after int64
	for {
		p, err := historyPageAt(s, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(p.Events) == 0 {
			return all, nil
		}
		all = append(all, p.Events...)
		after = p.Next
	}
}

// waitHistory waits until the history holds n events and returns them. It fails the test
// if the history does not reach n, and checks that it is gapless (positions 1..n) with
// unique event ids.
func waitHistory(t testing.TB, s *stacktest.Stack, n int) []historyEntry {
	t.Helper()
	var all []historyEntry
	stacktest.Eventually(t, 30*time.Second, func() error {
		var err error
		if all, err = allHistory(s); err != nil {
			return err
		}
		if len(all) > n {
			t.Fatalf("history holds %d events, want %d: some are there twice or were never accepted", len(all), n)
		}
		if len(all) != n {
			return stacktest.Errorf("history holds %d events, want %d", len(all), n)
		}
		return nil
	})
	checkGapless(t, all)
	return all
}

// checkGapless requires that the history's positions are 1..n and that it holds each
// event once.
func checkGapless(t testing.TB, all []historyEntry) {
	t.Helper()
	ids := make(map[string]bool, len(all))
	for i, e := range all {
		if e.Position != int64(i+1) {
			t.Fatalf("history position %d at index %d: not gapless", e.Position, i)
		}
		if ids[e.ID] {
			t.Fatalf("history holds event %s twice", e.ID)
		}
		ids[e.ID] = true
	}
}

// checkHistoryStreams requires that the history holds, for every wallet, exactly the
// versions 1..want[wallet], in increasing order of position.
func checkHistoryStreams(t testing.TB, all []historyEntry, want map[string]int64) {
	t.Helper()
	last := make(map[string]int64)
	for _, e := range all {
		id := strings.TrimPrefix(e.Stream, "wallet.")
		if _, ok := want[id]; !ok {
			t.Fatalf("history holds an event of unexpected stream %s", e.Stream)
		}
		if e.Version != last[id]+1 {
			t.Fatalf("history: %s version %d at position %d follows version %d", e.Stream, e.Version, e.Position, last[id])
		}
		last[id] = e.Version
	}
	for id, n := range want {
		if last[id] != n {
			t.Fatalf("history holds %d events of wallet %s, want %d", last[id], id, n)
		}
	}
}

// op is one command of a load.
type op struct {
	Wallet string
	Kind   string // credit or debit
	Cents  int64
}

// outcome is what the API answered to an op.
type outcome struct {
	op
	Code    int
	ErrType string
	Version int64
	Balance int64
	Err     error // transport error
}

// randomOps returns n random credits and debits (creditShare of them credits) of
// 0.01..maxCents over wallets, in random order.
func randomOps(rng *rand.Rand, wallets []string, n int, creditShare float64, maxCents int64) []op {
	ops := make([]op, n)
	for i := range ops {
		kind := "debit"
		if rng.Float64() < creditShare {
			kind = "credit"
		}
		ops[i] = op{Wallet: wallets[rng.IntN(len(wallets))], Kind: kind, Cents: 1 + rng.Int64N(maxCents)}
	}
	return ops
}

// runOps sends ops with clients concurrent clients and returns the outcomes, in ops order.
func runOps(s *stacktest.Stack, ops []op, clients int) []outcome {
	out := make([]outcome, len(ops))
	next := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := ops[i]
				r, err := send("POST", walletURL(s, o.Wallet, o.Kind), amountBody(o.Cents))
				out[i] = outcome{op: o, Code: r.Code, ErrType: r.errType(), Version: r.version(), Balance: r.balance(), Err: err}
			}
		}()
	}
	for i := range ops {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// walletTotals is what a load did to one wallet, computed from its outcomes.
type walletTotals struct {
	Sent     int
	Accepted int64 // the wallet's version after the load
	Balance  int64 // cents
}

// checkOutcomes checks every answer of a load and, per wallet, that the accepted
// commands form one serial history: versions 1..n, each 200's balance the previous one
// plus or minus its amount, never below zero. It returns the totals per wallet.
func checkOutcomes(t testing.TB, outs []outcome) map[string]*walletTotals {
	t.Helper()
	var bad []string
	byWallet := make(map[string][]outcome)
	totals := make(map[string]*walletTotals)
	for _, o := range outs {
		tot := totals[o.Wallet]
		if tot == nil {
			tot = &walletTotals{}
			totals[o.Wallet] = tot
		}
		tot.Sent++
		switch {
		case o.Err != nil:
			bad = append(bad, o.Err.Error())
		case o.Code == 200:
			byWallet[o.Wallet] = append(byWallet[o.Wallet], o)
			if o.Balance < 0 {
				bad = append(bad, fmt.Sprintf("%s %s: 200 with balance %d cents", o.Kind, o.Wallet, o.Balance))
			}
		case o.Code == 422 && o.ErrType == "insufficient_funds" && o.Kind == "debit":
		default:
			bad = append(bad, fmt.Sprintf("%s %s %s: %d %s", o.Kind, o.Wallet, fmtCents(o.Cents), o.Code, o.ErrType))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d commands got an unexpected answer, e.g. %q", len(bad), len(outs), bad[:min(len(bad), 5)])
	}
	for id, acc := range byWallet {
		sort.Slice(acc, func(i, j int) bool { return acc[i].Version < acc[j].Version })
		var bal int64
		for i, o := range acc {
			if o.Version != int64(i+1) {
				t.Errorf("wallet %s: accepted command %d has version %d (duplicate or gap)", id, i+1, o.Version)
				break
			}
			if o.Kind == "credit" {
				bal += o.Cents
			} else {
				bal -= o.Cents
			}
			if bal < 0 || o.Balance != bal {
				t.Errorf("wallet %s version %d: %s %s answered balance %s, serial replay gives %s",
					id, o.Version, o.Kind, fmtCents(o.Cents), fmtCents(o.Balance), fmtCents(bal))
				break
			}
		}
		totals[id].Accepted, totals[id].Balance = int64(len(acc)), bal
	}
	return totals
}

// checkWallets requires that GET /wallet/{id} of every wallet shows its totals, with the
// version as ETag (404 for a wallet no command was accepted on).
func checkWallets(t testing.TB, s *stacktest.Stack, totals map[string]*walletTotals) {
	t.Helper()
	for id, tot := range totals {
		r := must(t, "GET", walletURL(s, id), "")
		if tot.Accepted == 0 {
			if r.Code != 404 || r.errType() != "not_found" {
				t.Errorf("wallet %s without accepted commands: %s", id, r)
			}
			continue
		}
		if r.Code != 200 || r.version() != tot.Accepted || r.balance() != tot.Balance || r.JSON["id"] != id {
			t.Errorf("wallet %s: %s, want version %d balance %s", id, r, tot.Accepted, fmtCents(tot.Balance))
		}
		if et := r.Header.Get("ETag"); et != fmt.Sprintf(`"%d"`, tot.Accepted) {
			t.Errorf("wallet %s: ETag %s, want \"%d\"", id, et, tot.Accepted)
		}
	}
}

// checkRows requires exactly one event row per command sent to each wallet, as many
// accepted rows as accepted commands, and nothing else in the table.
func checkRows(t testing.TB, db *sql.DB, totals map[string]*walletTotals) {
	t.Helper()
	sent := 0
	for id, tot := range totals {
		sent += tot.Sent
		stream := "wallet." + id
		if n := count(t, db, `SELECT count(*) FROM event WHERE stream = ?`, stream); n != tot.Sent {
			t.Errorf("event table holds %d rows of %s, want %d (one per command sent)", n, id, tot.Sent)
		}
		if n := count(t, db, `SELECT count(*) FROM event WHERE stream = ? AND outcome = 'accepted'`, stream); int64(n) != tot.Accepted {
			t.Errorf("event table holds %d accepted rows of %s, want %d", n, id, tot.Accepted)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM event`); n != sent {
		t.Errorf("event table holds %d rows, want %d", n, sent)
	}
}

// restartWriter is s.RestartWriter, plus a cleanup that stops the new writer once; t must
// be the test that started the stack (not a subtest, whose end would stop the writer).
// (Each StartWriter registers a cleanup that calls the current stop function without
// clearing it, so after a restart the same writer would be "stopped" twice and the
// second call waits 30s for a writer that is gone; StopWriter clears it.)
func restartWriter(t testing.TB, s *stacktest.Stack) {
	t.Helper()
	s.RestartWriter()
	t.Cleanup(s.StopWriter)
}
