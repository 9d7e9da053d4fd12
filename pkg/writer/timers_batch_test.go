package writer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/failure"
)

// lease is a one-timer domain: "set" {"at"} sets the lease's end, the timer's "expire"
// ends it.
type lease struct{}

type leaseState struct {
	At      int64 `json:"at,omitempty"`
	Expired int   `json:"expired,omitempty"`
}

func (lease) Name() string { return "lease" }
func (lease) ParseCommand(typ string, body []byte) (aggregate.Command, error) {
	if typ != "set" {
		return aggregate.Command{}, failure.New(failure.Invalid, "unknown_command", typ)
	}
	return aggregate.Command{Type: typ, Data: body}, nil
}
func (lease) Decide(_ leaseState, _ int64, cmd aggregate.Command) ([]aggregate.Event, error) {
	return []aggregate.Event{{Type: cmd.Type, Data: cmd.Data}}, nil
}
func (lease) Evolve(s leaseState, e aggregate.Event) (leaseState, error) {
	var d struct{ At int64 }
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return s, err
	}
	if e.Type == "expire" {
		s.At, s.Expired = 0, s.Expired+1
	} else {
		s.At = d.At
	}
	return s, nil
}
func (lease) Timers(s leaseState) []aggregate.Timer {
	if s.At == 0 {
		return nil
	}
	return []aggregate.Timer{{Key: "expire", At: time.Unix(0, s.At),
		Command: aggregate.Command{Type: "expire", Data: []byte(`{"at":` + strconv.FormatInt(s.At, 10) + `}`)}}}
}

// TestTimerSupersededInItsOwnBatch: a due timer taken into a batch after a command that
// moves it (a renew decided just before the expiry) does not fire; the moved one stays.
func TestTimerSupersededInItsOwnBatch(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w := New[leaseState](lease{}, store, nil, nil, nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := w.loadTimers(ctx); err != nil {
		t.Fatal(err)
	}
	set := func(at time.Time) *pending {
		return &pending{req: command.Request{Kind: command.KindCommand, Entity: "e1", Command: "set",
			Data: json.RawMessage(`{"at":` + strconv.FormatInt(at.UnixNano(), 10) + `}`)}}
	}
	due := time.Now().Add(-time.Millisecond) // already due
	w.process([]*pending{set(due)})
	later := time.Now().Add(time.Hour)
	batch := []*pending{set(later)}                       // the renew, taken first from the intake
	batch = append(batch, w.dueTimers(time.Now(), 10)...) // then the timer it supersedes
	if len(batch) != 2 {
		t.Fatalf("%d timers due, want 1", len(batch)-1)
	}
	w.process(batch)
	e, err := w.load(ctx, "lease.e1", "e1")
	if err != nil {
		t.Fatal(err)
	}
	if e.state.Expired != 0 || e.state.At != later.UnixNano() || e.version != 2 {
		t.Fatalf("state %+v at version %d: the superseded timer fired", e.state, e.version)
	}
	var stored []sqlite.Timer
	store.Timers(ctx, func(t sqlite.Timer) error { stored = append(stored, t); return nil }) //nolint:errcheck
	if len(stored) != 1 || stored[0].Fired || !stored[0].At.Equal(time.Unix(0, later.UnixNano())) {
		t.Fatalf("stored timers %+v; want the moved one, unfired", stored)
	}
}
