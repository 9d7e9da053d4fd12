package writer_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/writer"
)

// TestFencingTokens: a wallet remembers the highest fencing token it accepted per lock
// and refuses a lower one with stale_token (an equal one passes), leaving its balance as
// it was; an idempotent retry answers as before whatever its token; the tokens survive
// eviction, a restart and verify, and show in the read model's document.
func TestFencingTokens(t *testing.T) {
	p := newParts(t)
	path := dbPath(t)
	cfg := writer.Config{EntityCache: 1} // every other command loads the wallet from the state log
	r := startWriter(t, p, wallet.Domain{}, path, cfg)
	c := command.NewClient(p.nc, "wallet", 0, 10*time.Second)
	id, other := ksuid.New().String(), ksuid.New().String()
	credit := func(id string, fence map[string]int64, key string) (command.Reply, error) {
		return c.Send(context.Background(), command.Request{Kind: command.KindCommand, Entity: id, Command: wallet.CmdCredit,
			Data: json.RawMessage(`{"amount":"1.00"}`), Fencing: fence, IdempotencyKey: key})
	}
	must := func(rep command.Reply, err error) command.Reply {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	stale := func(rep command.Reply, err error) {
		t.Helper()
		if fe := failure.From(err); err == nil || fe.Kind != failure.Conflict || fe.Type != "stale_token" {
			t.Fatalf("got %s, %v; want stale_token", rep.State, err)
		}
	}
	balance := func(id string) (string, int64) {
		t.Helper()
		st, ok, err := r.store.LatestState(context.Background(), "wallet."+id)
		if err != nil || !ok {
			t.Fatalf("state of %s: %v %v", id, ok, err)
		}
		var d struct{ Balance string }
		json.Unmarshal(st.State, &d) //nolint:errcheck
		return d.Balance, st.Version
	}
	rep := must(credit(id, map[string]int64{"myapp.resource": 5}, ""))
	if want := `{"id":"` + id + `","version":1,"fencing":{"myapp.resource":5},"balance":"1.00"}`; string(rep.State) != want {
		t.Fatalf("state %s, want %s", rep.State, want)
	}
	must(credit(other, nil, "")) // evicts id
	stale(credit(id, map[string]int64{"myapp.resource": 4}, "k-stale"))
	if b, v := balance(id); b != "1.00" || v != 1 {
		t.Fatalf("after a stale token: balance %s version %d; want 1.00, 1", b, v)
	}
	first := must(credit(id, map[string]int64{"myapp.resource": 5}, "k-equal")) // equal: accepted
	must(credit(id, map[string]int64{"myapp.resource": 6, "other-lock": 1}, ""))
	// Retries answer as before: the applied one (lower token now), the refused one.
	if again := must(credit(id, map[string]int64{"myapp.resource": 1}, "k-equal")); string(again.State) != string(first.State) || again.Version != 2 {
		t.Fatalf("retry answered %s, first answer %s", again.State, first.State)
	}
	stale(credit(id, map[string]int64{"myapp.resource": 9}, "k-stale"))
	if b, v := balance(id); b != "3.00" || v != 3 {
		t.Fatalf("balance %s version %d; want 3.00, 3", b, v)
	}
	if _, err := credit(id, map[string]int64{"bad name": 1}, ""); failure.KindOf(err) != failure.Invalid {
		t.Fatalf("a bad lock name: %v; want invalid", err)
	}
	doc, ok, err := p.proj.Get(context.Background(), "wallet."+id)
	if err != nil || !ok {
		t.Fatalf("read model: %v %v", ok, err)
	}
	if want := `{"id":"` + id + `","version":3,"fencing":{"myapp.resource":6,"other-lock":1},"balance":"3.00"}`; string(doc) != want {
		t.Fatalf("read model %s, want %s", doc, want)
	}

	r.stop()
	rep2, err := writer.Verify(context.Background(), openStore(t, path), wallet.Domain{})
	if err != nil || !rep2.OK() || rep2.Events != 4 {
		t.Fatalf("verify: %+v %v", rep2, err)
	}
	r = startWriter(t, p, wallet.Domain{}, path, cfg)
	stale(credit(id, map[string]int64{"myapp.resource": 5}, ""))
	if _, err := credit(id, map[string]int64{"other-lock": 0}, ""); failure.KindOf(err) != failure.Invalid {
		t.Fatalf("token 0: %v; want invalid", err)
	}
	must(credit(id, map[string]int64{"myapp.resource": 6}, ""))
	if b, v := balance(id); b != "4.00" || v != 4 {
		t.Fatalf("after the restart: balance %s version %d; want 4.00, 4", b, v)
	}
}
