package tracker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/tracker"
)

// historyServer is a real history (SQLite in a temp dir) served over HTTP as the history
// writer serves it.
func historyServer(t testing.TB) (*history.Store, *httptest.Server) {
	t.Helper()
	return historyServerAt(t, filepath.Join(t.TempDir(), "history.db"))
}

func historyServerAt(t testing.TB, path string) (*history.Store, *httptest.Server) {
	t.Helper()
	s, err := history.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	r := httpapi.NewRouter()
	history.Mount(r, s)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		s.Close()
	})
	return s, srv
}

func appendAll(t testing.TB, s *history.Store, events []event.Envelope, batch int) {
	t.Helper()
	for len(events) > 0 {
		n := min(batch, len(events))
		if _, err := s.Append(context.Background(), events[:n]); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
	}
}

func newTracker(t testing.TB, url string, o tracker.Options) *tracker.Tracker {
	t.Helper()
	o.HistoryURL = url
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tr, err := tracker.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// waitPosition waits until the tracker has applied every entry up to pos.
func waitPosition(t *testing.T, tr *tracker.Tracker, pos int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for tr.Position() < pos {
		if time.Now().After(deadline) {
			t.Fatalf("the tracker reached position %d of %d in 30s", tr.Position(), pos)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The model read from the recorded history in bulk equals the model built live from
// the same events as they are stored (GET /history/events), and one built from part of
// it in bulk then the rest live: queue flows, commands and locks' grants.
func TestReplayEqualsLive(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFlows(time.Now().Add(-time.Hour), time.Millisecond)
	f.mixed(60)
	for i := range 10 {
		f.locks(fmt.Sprintf("printer%d", i)) // locks' grants
		f.mixed(2)
	}
	f.corr = false
	f.mixed(20) // and the old format, without correlation ids on queue events
	store, srv := historyServer(t)
	fixed := time.Now().Add(time.Hour)
	now := func() time.Time { return fixed } // the same cutoff for every model
	o := tracker.Options{Now: now, Window: 24 * time.Hour}

	live := newTracker(t, srv.URL, o)
	if err := live.Replay(ctx); err != nil { // an empty history
		t.Fatal(err)
	}
	followed := make(chan error, 1)
	go func() { followed <- live.Follow(ctx) }()

	half := len(f.events) / 2
	appendAll(t, store, f.events[:half], 7)
	mixed := newTracker(t, srv.URL, tracker.Options{Now: now, Window: 24 * time.Hour, Page: 50})
	if err := mixed.Replay(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { followed <- mixed.Follow(ctx) }()
	appendAll(t, store, f.events[half:], 7)
	newest, err := store.Newest(ctx)
	if err != nil || newest != int64(len(f.events)) {
		t.Fatalf("history holds %d events (%v), want %d", newest, err, len(f.events))
	}

	recorded := newTracker(t, srv.URL, tracker.Options{Now: now, Window: 24 * time.Hour, Page: 97})
	if err := recorded.Replay(ctx); err != nil {
		t.Fatal(err)
	}
	waitPosition(t, live, newest)
	waitPosition(t, mixed, newest)
	want := recorded.Snapshot()
	if want.Counters.InFlight == 0 || want.Counters.Completed == 0 || len(want.Messages) == 0 || len(want.Grants) != 10 {
		t.Fatalf("the recorded model is too thin to compare: %+v", want.Counters)
	}
	for name, tr := range map[string]*tracker.Tracker{"live": live, "bulk then live": mixed} {
		if got := tr.Snapshot(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the model differs from the recorded one:\n got %+v\nwant %+v", name, got.Counters, want.Counters)
		}
	}
	cancel()
	for range 2 {
		if err := <-followed; err != context.Canceled {
			t.Errorf("Follow: %v", err)
		}
	}
}

// The live path resumes after the history goes away: a restarted history (same file,
// new server) is followed from the last position, missing nothing.
func TestFollowResumes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFlows(time.Now().UTC().Round(0), time.Millisecond) // as the history stores times: UTC, no monotonic reading
	f.mixed(10)
	store, srv := historyServer(t)
	appendAll(t, store, f.events[:50], 50)
	fixed := time.Now()
	tr := newTracker(t, srv.URL, tracker.Options{Now: func() time.Time { return fixed }})
	if err := tr.Replay(ctx); err != nil {
		t.Fatal(err)
	}
	followed := make(chan error, 1)
	go func() { followed <- tr.Follow(ctx) }()
	appendAll(t, store, f.events[50:80], 3)
	waitPosition(t, tr, 80)
	srv.CloseClientConnections() // the stream breaks, as when the history restarts
	appendAll(t, store, f.events[80:], 3)
	waitPosition(t, tr, int64(len(f.events)))

	want := tracker.NewModel(fixed.Add(-tracker.DefaultWindow))
	apply(want, f.events, 1)
	if got := tr.Snapshot(); !reflect.DeepEqual(got, want.Snapshot()) {
		t.Fatalf("after the reconnection the model differs: %+v vs %+v", got.Counters, want.Snapshot().Counters)
	}
	cancel()
	<-followed
}
