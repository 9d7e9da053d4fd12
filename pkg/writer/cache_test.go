package writer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// order returns the streams of c, most recently used first.
func (c *entityCache[S]) order() []string {
	var out []string
	for it := c.ring.next; it != &c.ring; it = it.next {
		out = append(out, it.stream)
	}
	return out
}

func TestEntityCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newEntityCache[int](3)
	for i, s := range []string{"a", "b", "c", "d"} {
		c.put(s, &entity[int]{state: i, version: 1})
	}
	if got := c.order(); !slices.Equal(got, []string{"d", "c", "b", "a"}) {
		t.Fatalf("order %v", got)
	}
	if n := c.trim(); n != 1 || c.len() != 3 { // a: the least recently used
		t.Fatalf("trim evicted %d, holds %d", n, c.len())
	}
	if _, ok := c.get("a"); ok {
		t.Fatal("a was not evicted")
	}
	if e, ok := c.get("b"); !ok || e.state != 1 { // b is used: c is now the oldest
		t.Fatalf("b: %v %v", e, ok)
	}
	c.put("e", &entity[int]{state: 4, version: 1})
	if p := c.peek("c"); p == nil || p.state != 2 { // peek does not count as a use
		t.Fatalf("peek c: %v", p)
	}
	c.trim()
	if got := c.order(); !slices.Equal(got, []string{"e", "b", "d"}) {
		t.Fatalf("after trim: %v, want [e b d]", got)
	}
	held := c.put("b", &entity[int]{state: 9, version: 2})
	if e, _ := c.get("b"); e != held || e.state != 9 || e.version != 2 {
		t.Fatalf("put over b: %+v", e)
	}
	c.remove("d")
	c.remove("nothing")
	if got := c.order(); !slices.Equal(got, []string{"b", "e"}) || c.len() != 2 {
		t.Fatalf("after remove: %v", got)
	}
}

// creditReq returns a credit of 1.00 to wallet id.
func creditReq(id string) *pending {
	return &pending{req: command.Request{Kind: command.KindCommand, Entity: id, Command: wallet.CmdCredit, Data: json.RawMessage(`{"amount":"1.00"}`)}}
}

// TestEvictedEntityReloadsFromTheStateLog: beyond its bound the cache evicts between
// batches; an evicted entity's next command sees the state and version it had, also when
// a batch touches more entities than the bound (nothing is evicted mid-batch).
func TestEvictedEntityReloadsFromTheStateLog(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const bound = 2
	w := New[wallet.State](wallet.Domain{}, store, nil, nil, nil, Config{EntityCache: bound}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ids := make([]string, 7)
	for i := range ids {
		ids[i] = fmt.Sprintf("w%d", i)
	}
	want := map[string]int64{}
	// batch k credits ids[k%7], then 5 others, then ids[k%7] again: more entities than the bound
	for k := 0; k < 20; k++ {
		var batch []*pending
		hot := ids[k%len(ids)]
		batch = append(batch, creditReq(hot))
		for j := 1; j <= 5; j++ {
			batch = append(batch, creditReq(ids[(k+j*3)%len(ids)]))
		}
		batch = append(batch, creditReq(hot))
		for _, p := range w.process(batch) {
			var rep command.Reply
			if err := json.Unmarshal(p.reply, &rep); err != nil || rep.Error != nil {
				t.Fatalf("batch %d: reply %s", k, p.reply)
			}
			want[p.req.Entity]++
			if rep.Version != want[p.req.Entity] {
				t.Fatalf("batch %d: %s at version %d, want %d", k, p.req.Entity, rep.Version, want[p.req.Entity])
			}
			var doc struct{ Balance string }
			json.Unmarshal(rep.State, &doc) //nolint:errcheck // checked below
			if doc.Balance != fmt.Sprintf("%d.00", want[p.req.Entity]) {
				t.Fatalf("batch %d: %s balance %q after %d credits", k, p.req.Entity, doc.Balance, want[p.req.Entity])
			}
		}
		if n := w.entities.len(); n > bound {
			t.Fatalf("batch %d: %d entities held, bound %d", k, n, bound)
		}
	}
	for id, v := range want {
		st, ok, err := store.LatestState(ctx, "wallet."+id)
		if err != nil || !ok || st.Version != v {
			t.Fatalf("state log of %s: version %d (%v, %v), want %d", id, st.Version, ok, err, v)
		}
	}
}
