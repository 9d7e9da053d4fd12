package writer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
)

// redisServer starts a redis-server (stacktest would be an import cycle) listening on a
// unix socket in a temp dir only: no TCP port picked free that another process could take
// before redis-server binds it.
func redisServer(t *testing.T) *goredis.Client {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command("redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server (install it, or run ./test.sh, which does): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) //nolint:errcheck
	rdb := goredis.NewClient(&goredis.Options{Network: "unix", Addr: sock})
	t.Cleanup(func() { rdb.Close() })
	for deadline := time.Now().Add(10 * time.Second); rdb.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return rdb
}

// TestRebuildInSteps: the read model check pages through the entities and caps the events
// one step restores; together the steps restore every missing or older document with all
// its events, and leave a newer document alone.
func TestRebuildInSteps(t *testing.T) {
	defer func(c, e int) { rebuildChunk, rebuildEvents = c, e }(rebuildChunk, rebuildEvents)
	rebuildChunk, rebuildEvents = 7, 300
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	doc := func(stream string, v int64) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"id":%q,"version":%d,"balance":"%d.00"}`, stream, v, v))
	}
	const entities = 30
	versions := map[string]int64{}
	for i := range entities {
		stream := fmt.Sprintf("wallet.e%02d", i)
		n := int64(1 + i*5)
		versions[stream] = n
		var rows []sqlite.Row
		for v := int64(1); v <= n; v++ {
			ev := fmt.Sprintf(`[{"id":"%s-%d","stream":%q,"version":%d,"type":"credited","data":{"amount":"1.00"}}]`, stream, v, stream, v)
			rows = append(rows, sqlite.Row{Stream: stream, Version: v, CommandID: fmt.Sprintf("c-%s-%d", stream, v), Command: "credit",
				Data: json.RawMessage(`{"amount":"1.00"}`), Outcome: sqlite.Accepted, Events: json.RawMessage(ev), Result: json.RawMessage(`{}`), Time: time.Now()})
		}
		if err := store.Append(ctx, rows, []sqlite.State{{Stream: stream, Version: n, State: doc(stream, n), Time: time.Now()}}, 0); err != nil {
			t.Fatal(err)
		}
	}
	rdb := redisServer(t)
	proj := redis.New(rdb)
	// e03 is in Redis at an older version, e04 at a newer one (a commit the state log
	// read could not know of yet): the first is restored, the second left alone.
	if err := proj.Apply(ctx, []redis.Update{{Key: "wallet.e03", Version: 2, Doc: doc("wallet.e03", 2), Complete: true}}); err != nil {
		t.Fatal(err)
	}
	if err := proj.Apply(ctx, []redis.Update{{Key: "wallet.e04", Version: 99, Doc: doc("wallet.e04", 99), Complete: true}}); err != nil {
		t.Fatal(err)
	}
	w := New[wallet.State](wallet.Domain{}, store, proj, nil, nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.startRebuild("test")
	steps := 0
	for w.rb.active {
		w.rebuildStep(ctx)
		if steps++; steps > 100 || w.rb.failing {
			t.Fatalf("rebuild did not finish: %+v", w.rb)
		}
	}
	if steps < entities/rebuildChunk+2 {
		t.Errorf("%d steps: the event budget never cut a step short", steps)
	}
	if w.rb.checked != entities || w.rb.restored != entities-1 {
		t.Errorf("checked %d, restored %d; want %d, %d", w.rb.checked, w.rb.restored, entities, entities-1)
	}
	for stream, n := range versions {
		want := n
		if stream == "wallet.e04" {
			want = 99
		}
		got, err := rdb.Get(ctx, stream).Result()
		if err != nil || event.DocVersion(got) != want {
			t.Errorf("%s: %s %v, want version %d", stream, got, err, want)
		}
		if c, err := rdb.ZCard(ctx, redis.EventsKey(stream)).Result(); stream != "wallet.e04" && (err != nil || c != n) {
			t.Errorf("%s: %d events, want %d (%v)", stream, c, n, err)
		}
	}
	if ok, err := proj.Marked(ctx, redis.MarkerKey("wallet")); !ok || err != nil {
		t.Errorf("marker not set: %v", err)
	}
}
