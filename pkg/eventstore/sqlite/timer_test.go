package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// TestCommitTimers: timer changes commit with the batch's rows (set, replaced, deleted,
// marked fired), survive a reopen, and a batch that fails writes none of them.
func TestCommitTimers(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	at := t0.Add(time.Minute)
	tm := func(stream, key string, at time.Time, fired bool) sqlite.TimerChange {
		return sqlite.TimerChange{Timer: sqlite.Timer{Stream: stream, Key: key, At: at, Command: "expire", Data: json.RawMessage(`{"k":1}`), Fired: fired}}
	}
	list := func(s *sqlite.Store) string {
		t.Helper()
		out := ""
		if err := s.Timers(ctx, func(x sqlite.Timer) error {
			out += fmt.Sprintf("%s/%s@%d:%s%s fired=%v;", x.Stream, x.Key, x.At.Sub(t0)/time.Second, x.Command, x.Data, x.Fired)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := s.Commit(ctx, sqlite.Batch{Rows: []sqlite.Row{accepted("lock.a", 1, "")}, States: []sqlite.State{state("lock.a", 1)},
		Timers: []sqlite.TimerChange{tm("lock.a", "expire", at, false), tm("lock.a", "wait:w2", at, false), tm("lock.b", "x", at, false)}}); err != nil {
		t.Fatal(err)
	}
	if got, want := list(s), `lock.a/expire@60:expire{"k":1} fired=false;lock.a/wait:w2@60:expire{"k":1} fired=false;lock.b/x@60:expire{"k":1} fired=false;`; got != want {
		t.Fatalf("timers %s\nwant %s", got, want)
	}
	later := at.Add(time.Minute)
	del := tm("lock.a", "wait:w2", at, false)
	del.Delete = true
	if err := s.Commit(ctx, sqlite.Batch{Timers: []sqlite.TimerChange{tm("lock.a", "expire", later, false), del, tm("lock.b", "x", at, true)}}); err != nil {
		t.Fatal(err)
	}
	want := `lock.a/expire@120:expire{"k":1} fired=false;lock.b/x@60:expire{"k":1} fired=true;`
	if got := list(s); got != want {
		t.Fatalf("timers %s\nwant %s", got, want)
	}
	// A failing batch (a version already taken) writes no timer change.
	if err := s.Commit(ctx, sqlite.Batch{Rows: []sqlite.Row{accepted("lock.a", 1, "")}, Timers: []sqlite.TimerChange{tm("lock.c", "y", at, false)}}); err == nil {
		t.Fatal("a batch with a duplicate version committed")
	}
	s.Close()
	s2, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := list(s2); got != want {
		t.Fatalf("after a reopen: timers %s\nwant %s", got, want)
	}
}
