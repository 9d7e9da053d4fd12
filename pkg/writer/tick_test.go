package writer_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
	"uneventful.dev/uneventful/pkg/stacktest"
	"uneventful.dev/uneventful/pkg/writer"
)

// tick is a tiny pure domain for the timer tests: "schedule" {"key","at"} (unix ns) sets
// a timer (or {"keys":{"k":at,...}} several), "cancel" {"key"} removes it, "pin" {"on"} pins the entity (aggregate.Pinner);
// the timer's command "fire" (which ParseCommand refuses: no client can send it) records
// the firing with the decision time it was given.
type tick struct{}

type tickState struct {
	Due    map[string]int64 `json:"due,omitempty"`   // key -> at (unix ns)
	Fired  map[string]int   `json:"fired,omitempty"` // key -> how many times it fired
	Pinned bool             `json:"pinned,omitempty"`
}

type tickData struct {
	Key  string           `json:"key,omitempty"`
	At   int64            `json:"at,omitempty"`
	Keys map[string]int64 `json:"keys,omitempty"`
	Time int64            `json:"time,omitempty"` // of a firing: cmd.Time
	On   bool             `json:"on,omitempty"`
}

func (tick) Name() string { return "tick" }

func (tick) ParseCommand(typ string, body []byte) (aggregate.Command, error) {
	var d tickData
	if err := json.Unmarshal(body, &d); err != nil {
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_body", err.Error())
	}
	switch typ {
	case "schedule", "cancel", "pin":
		b, _ := json.Marshal(d)
		return aggregate.Command{Type: typ, Data: b}, nil
	}
	return aggregate.Command{}, failure.New(failure.Invalid, "unknown_command", typ)
}

func (tick) Decide(s tickState, _ int64, cmd aggregate.Command) ([]aggregate.Event, error) {
	var d tickData
	if err := json.Unmarshal(cmd.Data, &d); err != nil {
		return nil, failure.New(failure.Invalid, "invalid_body", err.Error())
	}
	ev := func(typ string, d tickData) []aggregate.Event {
		b, _ := json.Marshal(d)
		return []aggregate.Event{{Type: typ, Data: b}}
	}
	switch cmd.Type {
	case "schedule":
		return ev("scheduled", d), nil
	case "cancel":
		return ev("cancelled", d), nil
	case "pin":
		return ev("pinned", d), nil
	case "fire":
		if strings.HasPrefix(d.Key, "reject") {
			return nil, failure.New(failure.Rejected, "refused", "this timer's command is refused, and the state keeps listing it")
		}
		if s.Due[d.Key] != d.At {
			return nil, nil // superseded: nothing to do (never happens if the writer is right)
		}
		d.Time = cmd.Time.UnixNano()
		return ev("fired", d), nil
	}
	return nil, failure.New(failure.Invalid, "unknown_command", cmd.Type)
}

func (tick) Evolve(s tickState, e aggregate.Event) (tickState, error) {
	var d tickData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return s, err
	}
	s.Due, s.Fired = maps.Clone(s.Due), maps.Clone(s.Fired)
	switch e.Type {
	case "scheduled":
		if s.Due == nil {
			s.Due = map[string]int64{}
		}
		if d.Key != "" {
			s.Due[d.Key] = d.At
		}
		maps.Copy(s.Due, d.Keys)
	case "cancelled":
		delete(s.Due, d.Key)
	case "pinned":
		s.Pinned = d.On
	case "fired":
		delete(s.Due, d.Key)
		if s.Fired == nil {
			s.Fired = map[string]int{}
		}
		s.Fired[d.Key]++
	}
	return s, nil
}

func (tick) Timers(s tickState) []aggregate.Timer {
	var out []aggregate.Timer
	for k, at := range s.Due { // keys are plain: no JSON escaping needed
		b := []byte(`{"key":"` + k + `","at":` + strconv.FormatInt(at, 10) + `}`)
		out = append(out, aggregate.Timer{Key: k, At: time.Unix(0, at), Command: aggregate.Command{Type: "fire", Data: b}})
	}
	return out
}

func (tick) Pinned(s tickState) bool { return s.Pinned }

// parts is a NATS connection and a Redis read model for the writers of a test.
type parts struct {
	nc   *nats.Conn
	proj *redis.Projection
}

func newParts(t testing.TB) parts {
	nc := stacktest.Connect(t, stacktest.NATS(t))
	rdb := goredis.NewClient(&goredis.Options{Addr: stacktest.Redis(t)})
	t.Cleanup(func() { rdb.Close() })
	proj := redis.New(rdb)
	t.Cleanup(func() { proj.Close() })
	return parts{nc: nc, proj: proj}
}

// running is a writer running on its store.
type running[S any] struct {
	w     *writer.Writer[S]
	store *sqlite.Store
	start time.Time // when Run was called
	stop  func()    // stops the writer and closes its store
}

// startWriter runs a writer of d over the store at path until stop (or the test's end).
func startWriter[S any](t testing.TB, p parts, d aggregate.Domain[S], path string, cfg writer.Config) *running[S] {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := writer.New[S](d, store, p.proj, p.nc, nil, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	r := &running[S]{w: w, store: store, start: time.Now()}
	go func() { done <- w.Run(runCtx) }()
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		store.Close()
	}
	t.Cleanup(r.stop)
	stacktest.Eventually(t, 10*time.Second, func() error { return w.Ready(ctx) })
	return r
}

func dbPath(t testing.TB) string { return filepath.Join(t.TempDir(), "w.db") }

// openStore opens the store at path until the test's end.
func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
