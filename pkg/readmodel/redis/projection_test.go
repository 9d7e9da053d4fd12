package redis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/readmodel/redis"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// newProjection returns a projection over a fresh redis-server, and a raw client to it.
func newProjection(t *testing.T) (*redis.Projection, *goredis.Client) {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: stacktest.Redis(t)})
	t.Cleanup(func() { rdb.Close() })
	return redis.New(rdb), rdb
}

func doc(version int64) []byte {
	return []byte(fmt.Sprintf(`{"id":"a","version":%d,"balance":"%d.00"}`, version, version))
}

func entry(version int64) redis.Entry {
	return redis.Entry{Version: version, JSON: []byte(fmt.Sprintf(`{"id":"e%d","version":%d}`, version, version))}
}

func entries(from, to int64) []redis.Entry {
	var out []redis.Entry
	for v := from; v <= to; v++ {
		out = append(out, entry(v))
	}
	return out
}

// update is a complete update: the events set holds every event up to version.
func update(key string, version int64, events ...redis.Entry) redis.Update {
	return redis.Update{Key: key, Version: version, Doc: doc(version), Events: events, Complete: true}
}

func apply(t *testing.T, p *redis.Projection, updates ...redis.Update) {
	t.Helper()
	if err := p.Apply(context.Background(), updates); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func mustGet(t *testing.T, p *redis.Projection, key string) (string, bool) {
	t.Helper()
	d, ok, err := p.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return string(d), ok
}

func allEvents(t *testing.T, p *redis.Projection, key string) []string {
	t.Helper()
	list, err := p.Events(context.Background(), key, 0, 1000)
	if err != nil {
		t.Fatalf("Events(%s): %v", key, err)
	}
	return list
}

func TestApplySetsDocAndEvents(t *testing.T) {
	p, rdb := newProjection(t)
	if _, ok := mustGet(t, p, "wallet.a"); ok {
		t.Fatal("Get on an empty read model: ok")
	}
	// Two entities in one pipeline, on a Redis that has never seen the script.
	apply(t, p, update("wallet.a", 2, entry(1), entry(2)), update("wallet.b", 1, entry(1)))
	tests := []struct {
		key    string
		doc    string
		events []string
	}{
		{"wallet.a", string(doc(2)), []string{string(entry(2).JSON), string(entry(1).JSON)}},
		{"wallet.b", string(doc(1)), []string{string(entry(1).JSON)}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if d, ok := mustGet(t, p, tc.key); !ok || d != tc.doc {
				t.Fatalf("doc = %q, %v; want %q", d, ok, tc.doc)
			}
			if got := allEvents(t, p, tc.key); !slices.Equal(got, tc.events) {
				t.Fatalf("events = %q, want %q", got, tc.events)
			}
		})
	}
	if got := rdb.Exists(context.Background(), redis.EventsKey("wallet.a")).Val(); got != 1 || redis.EventsKey("wallet.a") != "wallet.a.events" {
		t.Fatalf("events key %q exists=%d", redis.EventsKey("wallet.a"), got)
	}
	if err := p.Apply(context.Background(), nil); err != nil {
		t.Fatalf("Apply(nil): %v", err)
	}
	if err := p.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestApplyNeverOverwritesANewerDoc(t *testing.T) {
	tests := []struct {
		name     string
		versions []int64 // applied in this order
		want     int64
	}{
		{"in order", []int64{1, 2, 3}, 3},
		{"older after newer", []int64{3, 2}, 3},
		{"same version twice", []int64{2, 2}, 2},
		{"far behind", []int64{10, 1}, 10},
		{"multi-digit versions compare as numbers", []int64{9, 10, 9}, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newProjection(t)
			for _, v := range tc.versions {
				apply(t, p, update("wallet.a", v, entry(v)))
			}
			if d, ok := mustGet(t, p, "wallet.a"); !ok || d != string(doc(tc.want)) {
				t.Fatalf("doc = %q, want version %d", d, tc.want)
			}
		})
	}
}

func TestApplyEventsAreIdempotent(t *testing.T) {
	p, _ := newProjection(t)
	apply(t, p, update("wallet.a", 2, entries(1, 2)...))
	apply(t, p, update("wallet.a", 2, entries(1, 2)...))                // redelivered
	apply(t, p, update("wallet.a", 3, entries(2, 3)...))                // overlapping
	apply(t, p, redis.Update{Key: "wallet.a", Events: entries(1, 3)})   // events only
	apply(t, p, redis.Update{Key: "wallet.a", Version: 9, Events: nil}) // no doc: version ignored
	want := []string{string(entry(3).JSON), string(entry(2).JSON), string(entry(1).JSON)}
	if got := allEvents(t, p, "wallet.a"); !slices.Equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}
	if d, _ := mustGet(t, p, "wallet.a"); d != string(doc(3)) {
		t.Fatalf("doc = %q, want version 3", d)
	}
}

// An update with events only (as the writer's restore sends before the document) must
// not create a document: a reader who finds the document must find every event.
func TestApplyEventsOnlyDoesNotCreateADoc(t *testing.T) {
	p, _ := newProjection(t)
	apply(t, p, redis.Update{Key: "wallet.a", Events: entries(1, 2)})
	if got := len(allEvents(t, p, "wallet.a")); got != 2 {
		t.Fatalf("%d events, want 2", got)
	}
	if d, ok := mustGet(t, p, "wallet.a"); ok {
		t.Fatalf("events-only update created the document %q", d)
	}
	apply(t, p, update("wallet.a", 2))
	if d, ok := mustGet(t, p, "wallet.a"); !ok || d != string(doc(2)) {
		t.Fatalf("doc = %q, %v; want version 2", d, ok)
	}
}

func TestEventsPagesNewestFirst(t *testing.T) {
	p, _ := newProjection(t)
	apply(t, p, update("wallet.a", 12, entries(1, 12)...))
	tests := []struct {
		name   string
		key    string
		before int64
		limit  int
		want   []int64
	}{
		{"newest page", "wallet.a", 0, 3, []int64{12, 11, 10}},
		{"negative before is newest", "wallet.a", -1, 2, []int64{12, 11}},
		{"before is exclusive", "wallet.a", 10, 3, []int64{9, 8, 7}},
		{"last page", "wallet.a", 3, 5, []int64{2, 1}},
		{"before the first", "wallet.a", 1, 5, nil},
		{"before beyond newest", "wallet.a", 100, 2, []int64{12, 11}},
		{"unknown entity", "wallet.z", 0, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, err := p.Events(context.Background(), tc.key, tc.before, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, v := range tc.want {
				want = append(want, string(entry(v).JSON))
			}
			if len(list) != len(want) || (len(want) > 0 && !slices.Equal(list, want)) {
				t.Fatalf("Events(before %d, limit %d) = %q, want %q", tc.before, tc.limit, list, want)
			}
		})
	}
}

func TestApplyRecoversFromScriptFlush(t *testing.T) {
	ctx := context.Background()
	p, rdb := newProjection(t)
	apply(t, p, update("wallet.a", 1, entry(1)))
	for i, v := range []int64{2, 3} { // flush twice: recovery must work every time
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatalf("SCRIPT FLUSH: %v", err)
		}
		if err := p.Apply(ctx, []redis.Update{update("wallet.a", v, entry(v)), update("wallet.b", v, entry(v))}); err != nil {
			t.Fatalf("flush %d: Apply after SCRIPT FLUSH: %v", i, err)
		}
		for _, key := range []string{"wallet.a", "wallet.b"} {
			if d, ok := mustGet(t, p, key); !ok || d != string(doc(v)) {
				t.Fatalf("flush %d: %s doc = %q, want version %d", i, key, d, v)
			}
		}
	}
	if got := len(allEvents(t, p, "wallet.a")); got != 3 {
		t.Fatalf("wallet.a has %d events, want 3", got)
	}
}

func TestIsNoScript(t *testing.T) {
	_, rdb := newProjection(t)
	noScript := rdb.EvalSha(context.Background(), "0123456789abcdef0123456789abcdef01234567", nil).Err()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"from redis", noScript, true},
		{"wrapped", fmt.Errorf("apply: %w", noScript), true},
		{"the same text, not from redis", fmt.Errorf("NOSCRIPT No matching script. Please use EVAL."), false},
		{"another redis error", rdb.Do(context.Background(), "GET").Err(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := redis.IsNoScript(tc.err); got != tc.want {
				t.Fatalf("IsNoScript(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// Where Redis lost the document, an update whose events do not start at version 1 must
// not set it: the events set would be missing the older events. The next read restores
// the entity from the log instead.
func TestApplyDoesNotSetADocOverAnIncompleteEventsSet(t *testing.T) {
	p, _ := newProjection(t)
	apply(t, p, redis.Update{Key: "wallet.a", Version: 13, Doc: doc(13), Events: entries(13, 13)})
	if d, ok := mustGet(t, p, "wallet.a"); ok {
		t.Fatalf("document %q set over an incomplete events set", d)
	}
	apply(t, p, redis.Update{Key: "wallet.b", Version: 1, Doc: doc(1), Events: entries(1, 1)})
	if d, ok := mustGet(t, p, "wallet.b"); !ok || d != string(doc(1)) {
		t.Fatalf("first event of a new entity: doc = %q, %v; want version 1", d, ok)
	}
	apply(t, p, redis.Update{Key: "wallet.b", Version: 2, Doc: doc(2), Events: entries(2, 2)})
	if d, _ := mustGet(t, p, "wallet.b"); d != string(doc(2)) {
		t.Fatalf("doc = %q, want version 2", d)
	}
}

// Many entities' updates share one script call: each is decided on its own arguments,
// whatever stands before or after it (an update without events, one with many, one
// events-only).
func TestApplyManyEntitiesInOneCall(t *testing.T) {
	p, _ := newProjection(t)
	apply(t, p,
		redis.Update{Key: "wallet.a", Version: 5, Doc: doc(5)}, // no events, nothing stored: stays missing
		redis.Update{Key: "wallet.e", Version: 1, Doc: doc(1), Events: entries(1, 1)},
		update("wallet.b", 3, entries(1, 3)...),
		redis.Update{Key: "wallet.c", Events: entries(1, 1)},                          // events only
		redis.Update{Key: "wallet.d", Version: 2, Doc: doc(2), Events: entries(2, 2)}, // not from 1: stays missing
	)
	want := map[string]struct {
		doc    string
		events int
	}{"wallet.a": {"", 0}, "wallet.b": {string(doc(3)), 3}, "wallet.c": {"", 1}, "wallet.d": {"", 1}, "wallet.e": {string(doc(1)), 1}}
	for key, w := range want {
		d, _ := mustGet(t, p, key)
		if d != w.doc {
			t.Errorf("%s: doc %q, want %q", key, d, w.doc)
		}
		if n := len(allEvents(t, p, key)); n != w.events {
			t.Errorf("%s: %d events, want %d", key, n, w.events)
		}
	}
}

// A batch larger than one script call's limits is split, and every update still applies.
func TestApplySplitsLargeBatches(t *testing.T) {
	p, _ := newProjection(t)
	var updates []redis.Update
	for i := range 300 {
		updates = append(updates, update(fmt.Sprintf("wallet.%d", i), 20, entries(1, 20)...))
	}
	apply(t, p, updates...)
	for _, i := range []int{0, 127, 128, 299} {
		key := fmt.Sprintf("wallet.%d", i)
		if d, ok := mustGet(t, p, key); !ok || d != string(doc(20)) {
			t.Errorf("%s: doc %q, %v", key, d, ok)
		}
		if n := len(allEvents(t, p, key)); n != 20 {
			t.Errorf("%s: %d events, want 20", key, n)
		}
	}
}
