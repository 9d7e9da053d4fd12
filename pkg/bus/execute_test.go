package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/bus"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// Execute while the writer is down: the command waits in the wallet's commands queue
// and is applied once when the writer is back, however often it was sent with its key.
func TestExecuteWhileTheWriterIsDown(t *testing.T) {
	s, nc, b := stackBus(t)
	startWalletQueues(t, s, nc)
	ctx := context.Background()
	q := queue.NewClient(nc)
	id := event.NewID()

	s.StopWriter()
	for range 3 {
		if err := b.Execute(ctx, "wallet."+id, "credit", []byte(`{"amount": 5}`), "pay-1"); err != nil {
			t.Fatal(err)
		}
	}
	// The queue seen through the bus too: a queue target, the command its operation.
	rep, err := b.Call(ctx, "queue."+bus.CommandsQueue("wallet"), "browse", nil)
	var browsed struct{ Messages []queue.Browsed }
	if err != nil || json.Unmarshal(rep, &browsed) != nil {
		t.Fatalf("browse through the bus: %s, %v", rep, err)
	}
	ms := browsed.Messages
	if len(ms) != 1 || ms[0].Properties != id || ms[0].Type != "credit" || ms[0].Dedup != "execute/"+id+"/pay-1" {
		t.Fatalf("commands queue while the writer is down: %+v; want the one credit", ms)
	}
	_, err = b.Call(ctx, "queue."+bus.CommandsQueue("wallet"), "commit", []byte(`{"id": "`+ms[0].ID+`", "lease": "not-the-lease"}`))
	if bus.FailureType(err) != "lease_lost" {
		t.Fatalf("commit with a wrong lease through the bus: %v, want the failure lease_lost", err)
	}
	// The forwarder gives up on the absent writer after its target's timeout and rolls
	// the message back: it stays in the queue for the next try, not in the error queue.
	stacktest.Eventually(t, 30*time.Second, func() error {
		ms, err := q.Browse(ctx, bus.CommandsQueue("wallet"))
		if err != nil || len(ms) != 1 || ms[0].Redelivered < 1 {
			return stacktest.Errorf("commands queue: %+v, %v; want the credit rolled back once", ms, err)
		}
		return nil
	})

	s.StartWriter()
	stacktest.WaitReady(t, s.WriterURL)
	stacktest.Eventually(t, 30*time.Second, func() error {
		if ms, err := q.Browse(ctx, bus.CommandsQueue("wallet")); err != nil || len(ms) != 0 {
			return stacktest.Errorf("commands queue: %d messages, %v", len(ms), err)
		}
		return nil
	})
	// Once more with the key, now that it was applied: nothing new.
	if err := b.Execute(ctx, "wallet."+id, "credit", []byte(`{"amount": 5}`), "pay-1"); err != nil {
		t.Fatal(err)
	}
	// A refusal is an outcome too: the message is done, the wallet unchanged.
	if err := b.Execute(ctx, "wallet."+id, "debit", []byte(`{"amount": 100}`), "too-much"); err != nil {
		t.Fatal(err)
	}
	stacktest.Eventually(t, 30*time.Second, func() error {
		ms, err := q.Browse(ctx, bus.CommandsQueue("wallet"))
		errs, _ := q.Browse(ctx, bus.CommandsQueue("wallet")+queue.ErrorSuffix)
		if err != nil || len(ms) != 0 || len(errs) != 0 {
			return stacktest.Errorf("commands queue: %d messages, %d in error, %v", len(ms), len(errs), err)
		}
		return nil
	})
	var st walletState
	getJSON(t, s.URL+"/wallet/"+id, &st)
	if st.Version != 1 || st.Balance != "5.00" {
		t.Fatalf("wallet %+v, want the credit applied once (version 1, balance 5.00)", st)
	}
	var txs struct {
		Transactions []json.RawMessage `json:"transactions"`
	}
	getJSON(t, s.URL+"/wallet/"+id+"/transactions", &txs)
	if len(txs.Transactions) != 1 {
		t.Fatalf("%d transactions, want 1: %s", len(txs.Transactions), txs.Transactions)
	}

	if err := b.Execute(ctx, "service.echo", "x", nil, "k"); !errors.Is(err, bus.ErrInvalidTarget) {
		t.Fatalf("Execute to a service: %v, want ErrInvalidTarget", err)
	}
	if err := b.Execute(ctx, "nowhere."+id, "x", nil, "k"); !errors.Is(err, bus.ErrNoResponders) {
		t.Fatalf("Execute to a domain without queues: %v, want ErrNoResponders", err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
