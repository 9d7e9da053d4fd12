package writer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
	"uneventful.dev/uneventful/pkg/stacktest"
	"uneventful.dev/uneventful/pkg/writer"
)

// TestEvictionUnderConcurrentCommands: many clients credit more wallets than the writer
// keeps in memory, at once; every credit lands on the version and balance its wallet had,
// whether or not the wallet was evicted meanwhile.
func TestEvictionUnderConcurrentCommands(t *testing.T) {
	ctx := context.Background()
	nc := stacktest.Connect(t, stacktest.NATS(t))
	rdb := goredis.NewClient(&goredis.Options{Addr: stacktest.Redis(t)})
	defer rdb.Close()
	proj := redis.New(rdb)
	defer proj.Close()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const bound, wallets, clients, credits = 3, 12, 16, 30
	w := writer.New[wallet.State](wallet.Domain{}, store, proj, nc, nil, writer.Config{EntityCache: bound},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	stacktest.Eventually(t, 10*time.Second, func() error { return w.Ready(ctx) })

	ids := make([]string, wallets)
	for i := range ids {
		ids[i] = ksuid.New().String()
	}
	client := command.NewClient(nc, "wallet", 0, 10*time.Second)
	var mu sync.Mutex
	seen := map[string]map[int64]bool{} // per wallet, the versions its credits were answered with
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < credits; i++ {
				id := ids[(c*7+i)%wallets]
				rep, err := client.Send(ctx, command.Request{Kind: command.KindCommand, Entity: id, Command: wallet.CmdCredit,
					Data: json.RawMessage(`{"amount":"1.00"}`)})
				if err != nil {
					t.Errorf("credit %s: %v", id, err)
					return
				}
				var doc struct{ Balance string }
				if err := json.Unmarshal(rep.State, &doc); err != nil || doc.Balance != fmt.Sprintf("%d.00", rep.Version) {
					t.Errorf("credit %s answered version %d with %s", id, rep.Version, rep.State)
				}
				mu.Lock()
				if seen[id] == nil {
					seen[id] = map[int64]bool{}
				}
				if seen[id][rep.Version] {
					t.Errorf("%s: version %d answered twice", id, rep.Version)
				}
				seen[id][rep.Version] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, id := range ids {
		n := int64(len(seen[id]))
		total += int(n)
		for v := int64(1); v <= n; v++ { // versions 1..n, each once: no credit saw a stale state
			if !seen[id][v] {
				t.Fatalf("%s: no credit answered with version %d of %d", id, v, n)
			}
		}
		st, ok, err := store.LatestState(ctx, "wallet."+id)
		if err != nil || !ok || st.Version != n {
			t.Fatalf("state log of %s: version %d (%v, %v), want %d", id, st.Version, ok, err, n)
		}
	}
	if total != clients*credits {
		t.Fatalf("%d credits answered, want %d", total, clients*credits)
	}
	if n := w.Cached(); n > bound {
		t.Fatalf("%d entities in memory, bound %d", n, bound)
	}
}
