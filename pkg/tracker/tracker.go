package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/sse"
)

// DefaultWindow is how long completed items stay (TRACKER_WINDOW).
const DefaultWindow = 7 * 24 * time.Hour

// Options configure a Tracker.
type Options struct {
	HistoryURL string                         // the history service, e.g. http://127.0.0.1:8081 (required)
	Window     time.Duration                  // how long completed items stay; default DefaultWindow
	Client     *http.Client                   // for the history; default a client without timeout
	Now        func() time.Time               // default time.Now
	Log        *slog.Logger                   // default slog.Default()
	Page       int                            // entries per bulk request; default history.BulkPage
	Replayed   func(n int64, d time.Duration) // if set, called once the replay is done
	// Upcasters bring events of older schema versions to the current ones (event.Decode);
	// the history serves them upcast with its own, so nil reads them as served.
	Upcasters *event.Upcasters
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.HistoryURL == "" || !(strings.HasPrefix(o.HistoryURL, "http://") || strings.HasPrefix(o.HistoryURL, "https://")) {
		return errors.New("tracker: HistoryURL must be an http:// or https:// URL")
	}
	if o.Window < 0 {
		return errors.New("tracker: Window must not be negative")
	}
	return nil
}

func (o Options) withDefaults() Options {
	o.HistoryURL = strings.TrimRight(o.HistoryURL, "/")
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Page <= 0 {
		o.Page = history.BulkPage
	}
	return o
}

// Tracker holds the model, fed from the history: Replay reads the stored history in
// bulk, Follow then follows it live. Its methods are safe for concurrent use.
type Tracker struct {
	o     Options
	mu    sync.RWMutex
	m     *Model
	ready atomic.Bool
	hub   hub
}

// New returns a tracker with an empty model.
func New(o Options) (*Tracker, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	return &Tracker{o: o, m: NewModel(o.Now().Add(-o.Window))}, nil
}

// Ready reports whether the replay is done (the tracker serves its model).
func (t *Tracker) Ready() bool { return t.ready.Load() }

// Replay reads the stored history from the model's position on, in bulk, until it has
// read the newest entry; failed requests are retried every second until ctx is done.
// Then the tracker is ready.
func (t *Tracker) Replay(ctx context.Context) error {
	began := time.Now()
	var total int64
	t.mu.Lock()
	t.m.SetCutoff(t.o.Now().Add(-t.o.Window))
	t.mu.Unlock()
	for {
		t.mu.RLock()
		after := t.m.Position()
		t.mu.RUnlock()
		n, _, err := history.ReadBulkShared(ctx, t.o.Client, t.o.HistoryURL, after, t.o.Page, t.o.Upcasters, func(e history.Entry) error {
			t.mu.Lock()
			t.m.apply(e)
			t.mu.Unlock()
			return nil
		})
		total += int64(n)
		if err == nil && n < t.o.Page {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.o.Log.Warn("tracker: reading the history in bulk; retrying", "after", after, "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	t.mu.Lock()
	t.m.SetCutoff(t.o.Now().Add(-t.o.Window))
	pos, items := t.m.Position(), t.m.Len()
	t.mu.Unlock()
	t.ready.Store(true)
	d := time.Since(began)
	t.o.Log.Info("tracker: history replayed", "entries", total, "position", pos, "items", items, "seconds", d.Seconds())
	if t.o.Replayed != nil {
		t.o.Replayed(total, d)
	}
	return nil
}

// Follow follows the history live from the model's position (GET /history/events, C8),
// reconnecting after failures with Last-Event-ID, and hands each changed item to the
// page's streams, until ctx is done or the history refuses the stream.
func (t *Tracker) Follow(ctx context.Context) error {
	t.mu.RLock()
	after := t.m.Position()
	t.mu.RUnlock()
	f := &sse.Follower{Client: t.o.Client, Connected: func(after int64) {
		t.o.Log.Info("tracker: following the history", "after", after)
	}}
	return f.Follow(ctx, t.o.HistoryURL+"/history/events", after, func(ev sse.Event) error {
		env, err := event.Decode(ev.Data, t.o.Upcasters)
		if err != nil { // skipped, as the bulk read skips it: its position counts
			t.o.Log.Warn("tracker: an event that cannot be decoded; skipped", "position", ev.ID, "err", err)
			env = event.Envelope{}
		}
		t.mu.Lock()
		it := t.m.apply(history.Entry{Position: ev.ID, Envelope: env})
		var v Item
		if it != nil {
			v = it.view()
		}
		t.mu.Unlock()
		if it != nil {
			if b, err := json.Marshal(v); err == nil {
				t.hub.publish(update{position: ev.ID, data: b})
			}
		}
		return nil
	})
}

// Expire moves the window's start to now minus the window every interval, dropping the
// items that completed before it, until ctx is done.
func (t *Tracker) Expire(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.mu.Lock()
			t.m.SetCutoff(t.o.Now().Add(-t.o.Window))
			t.mu.Unlock()
		}
	}
}

// Items is Model.Items under the tracker's lock.
func (t *Tracker) Items(f Filter) ([]Item, int, int64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	items, total := t.m.Items(f)
	return items, total, t.m.Position()
}

// Counters is Model.Counters under the tracker's lock.
func (t *Tracker) Counters() Counters {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m.Counters()
}

// Snapshot is Model.Snapshot under the tracker's lock.
func (t *Tracker) Snapshot() Snapshot {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m.Snapshot()
}

// Position is the position of the newest history entry applied.
func (t *Tracker) Position() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m.Position()
}
