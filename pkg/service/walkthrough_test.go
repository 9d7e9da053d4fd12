package service_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// call sends a request and returns the status and decoded JSON body.
func call(t *testing.T, method, url, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, url, b)
	}
	return resp.StatusCode, m
}

// TestWalkthrough is the README's walkthrough: a debit refused on an empty wallet, a
// credit, the debit accepted; then balance, transactions and history agree.
func TestWalkthrough(t *testing.T) {
	s := stacktest.Start(t)
	w := s.URL + "/wallet/28skwt5B8zTrs6AqBWrSgCHLcRL"

	if code, m := call(t, "GET", w+"/balance", ""); code != 404 || m["error"].(map[string]any)["type"] != "not_found" {
		t.Fatalf("balance of a new wallet: %d %v", code, m)
	}
	if code, m := call(t, "POST", w+"/debit", `{"amount": 5}`); code != 422 || m["error"].(map[string]any)["type"] != "insufficient_funds" {
		t.Fatalf("debit on empty wallet: %d %v", code, m)
	}
	if code, m := call(t, "POST", w+"/credit", `{"amount": 5}`); code != 200 || m["balance"] != "5.00" || m["version"] != 1.0 {
		t.Fatalf("credit: %d %v", code, m)
	}
	if code, m := call(t, "POST", w+"/debit", `{"amount": 5}`); code != 200 || m["balance"] != "0.00" || m["version"] != 2.0 {
		t.Fatalf("debit: %d %v", code, m)
	}
	if code, m := call(t, "GET", w+"/balance", ""); code != 200 || m["balance"] != "0.00" || m["version"] != 2.0 {
		t.Fatalf("balance: %d %v", code, m)
	}
	code, m := call(t, "GET", w+"/transactions", "")
	txs, _ := m["transactions"].([]any)
	if code != 200 || len(txs) != 2 || txs[0].(map[string]any)["type"] != "debited" || txs[1].(map[string]any)["type"] != "credited" {
		t.Fatalf("transactions: %d %v", code, m)
	}
	stacktest.Eventually(t, 10*time.Second, func() error {
		_, h := call(t, "GET", s.HistoryURL+"/history?after=0", "")
		if h["newest"] != 2.0 {
			return stacktest.Errorf("history newest = %v, want 2", h["newest"])
		}
		return nil
	})
}
