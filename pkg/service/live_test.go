package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/gateway"
	"uneventful.dev/uneventful/pkg/sse"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// followResuming follows url until it has want events, ending each connection after a
// random number of events and resuming after the last one received (Last-Event-ID), as
// a client that keeps losing its connection would. h checks each event.
func followResuming(ctx context.Context, url string, want int, h sse.Handler) error {
	f := sse.Follower{Retry: 10 * time.Millisecond}
	var got int
	var last int64
	for got < want {
		cctx, stop := context.WithCancel(ctx)
		quota := 1 + rand.IntN(60)
		err := f.Follow(cctx, url, last, func(e sse.Event) error {
			if err := h(e); err != nil {
				return err
			}
			got, last = got+1, e.ID
			if quota--; quota == 0 || got == want {
				stop()
			}
			return nil
		})
		stop()
		if !errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return fmt.Errorf("after %d of %d events: %w", got, want, err)
		}
	}
	return nil
}

// TestLiveEntityEvents: subscribers join at random moments and resume with
// Last-Event-ID while commands are written concurrently; each receives exactly versions
// 1..N of the wallet, in order (C8).
func TestLiveEntityEvents(t *testing.T) {
	s := stacktest.Start(t)
	id := newWallet()
	const n, writers, subscribers = 120, 6, 5
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var written atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers+subscribers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for written.Add(1) <= n {
				r, err := send("POST", walletURL(s, id, "credit"), amountBody(1))
				if err == nil && r.Code != 200 {
					err = fmt.Errorf("credit: %s", r)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range subscribers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Join at a random moment: once some of the commands were sent.
			for start := int64(rand.IntN(n)) * int64(i) / subscribers; written.Load() < start; {
				time.Sleep(time.Millisecond) // pacing only: the check below does not depend on it
			}
			var last int64
			err := followResuming(ctx, walletURL(s, id, "events"), n, func(e sse.Event) error {
				var env event.Envelope
				if err := e.Decode(&env); err != nil {
					return err
				}
				if e.ID != last+1 || env.Version != e.ID || env.Stream != "wallet."+id || e.Type != "credited" {
					return fmt.Errorf("subscriber %d: event id %d (version %d, stream %s, type %s) after %d", i, e.ID, env.Version, env.Stream, e.Type, last)
				}
				last = e.ID
				return nil
			})
			if err == nil && last != n {
				err = fmt.Errorf("subscriber %d ended at %d", i, last)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLiveHistoryEvents: the same for GET /history/events over two wallets, following
// everything and one prefix: positions strictly increasing, each event once.
func TestLiveHistoryEvents(t *testing.T) {
	s := stacktest.Start(t)
	ids := []string{newWallet(), newWallet()}
	const n = 60 // per wallet
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if r, err := send("POST", walletURL(s, id, "credit"), amountBody(1)); err != nil || r.Code != 200 {
					errs <- fmt.Errorf("credit: %v %s", err, r)
					return
				}
			}
		}()
	}
	for i, url := range []string{s.HistoryURL + "/history/events", s.HistoryURL + "/history/events?stream=wallet." + ids[1], s.HistoryURL + "/history/events?stream=wallet."} {
		want := map[int]int{0: 2 * n, 1: n, 2: 2 * n}[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			versions := map[string]int64{}
			err := followResuming(ctx, url, want, func(e sse.Event) error {
				var env event.Envelope
				if err := e.Decode(&env); err != nil {
					return err
				}
				if e.ID <= last || env.Version != versions[env.Stream]+1 {
					return fmt.Errorf("%s: position %d after %d, %s version %d after %d", url, e.ID, last, env.Stream, env.Version, versions[env.Stream])
				}
				last, versions[env.Stream] = e.ID, env.Version
				return nil
			})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLiveEventsBadInputAndNeverWritten: bad input is a C3 error before the stream
// starts; a wallet never written answers 200 with its headers at once, then its first
// event when it comes.
func TestLiveEventsBadInputAndNeverWritten(t *testing.T) {
	s := stacktest.Start(t)
	id := newWallet()
	for _, tc := range []struct{ name, url, errType string }{
		{"not a KSUID", s.URL + "/wallet/not-a-ksuid/events", "invalid_id"},
		{"after=abc", walletURL(s, id, "events") + "?after=abc", "invalid_after"},
		{"history after=abc", s.HistoryURL + "/history/events?after=abc", "invalid_after"},
	} {
		r := must(t, "GET", tc.url, "")
		if r.Code != 400 || r.errType() != tc.errType || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %s, want 400 %s", tc.name, r, tc.errType)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", walletURL(s, id, "events"), nil)
	resp, err := http.DefaultClient.Do(req) // returns with the headers: nothing was written yet
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("never-written wallet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	credit(t, s, id, 500)
	var env event.Envelope
	f := sse.Follower{}
	err = f.Follow(ctx, walletURL(s, id, "events"), 0, func(e sse.Event) error {
		if err := json.Unmarshal(e.Data, &env); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if env.Version != 1 || env.Type != "credited" {
		t.Fatalf("first event: %+v (%v)", env, err)
	}
}

// TestLiveEntityAfterEnd: ?after=end streams only the events written after the stream
// started: the first one it gives is the wallet's next version.
func TestLiveEntityAfterEnd(t *testing.T) {
	s := stacktest.Start(t)
	id := newWallet()
	credit(t, s, id, 100)
	credit(t, s, id, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connected := make(chan struct{})
	f := sse.Follower{Connected: func(int64) { close(connected) }}
	got := make(chan int64, 1)
	go func() {
		err := f.Follow(ctx, walletURL(s, id, "events")+"?after=end", 0, func(e sse.Event) error { got <- e.ID; return errDone })
		if !errors.Is(err, errDone) && ctx.Err() == nil {
			t.Error(err)
		}
	}()
	select {
	case <-connected: // the headers came after the stream took its position
	case <-ctx.Done():
		t.Fatal("no headers")
	}
	credit(t, s, id, 100)
	select {
	case v := <-got:
		if v != 3 {
			t.Fatalf("first event %d, want 3", v)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
}

var errDone = errors.New("done")

// TestLiveThroughGateway: both streams reach a client through the HTTP entry of local
// processes (pkg/gateway) as they come.
func TestLiveThroughGateway(t *testing.T) {
	s := stacktest.Start(t)
	routes, err := gateway.ParseRoutes("/wallet/=" + s.URL + " /history=" + s.HistoryURL)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Config{Routes: routes, Log: s.Log})
	if err != nil {
		t.Fatal(err)
	}
	entry := httptest.NewServer(g)
	defer entry.Close()
	id := newWallet()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, url := range []string{entry.URL + "/wallet/" + id + "/events?after=end", entry.URL + "/history/events?after=end&stream=wallet." + id} {
		connected := make(chan struct{})
		f := sse.Follower{Connected: func(int64) { close(connected) }}
		got := make(chan int64, 3)
		go f.Follow(ctx, url, 0, func(e sse.Event) error { got <- e.ID; return nil }) //nolint:errcheck // ends with ctx
		select {
		case <-connected:
		case <-ctx.Done():
			t.Fatalf("%s: no headers", url)
		}
		credit(t, s, id, 100) // each one live: the stream is open
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatalf("%s: no event", url)
		}
	}
}

// TestLiveAfterRedisLostItsData: a subscriber from the first event of a wallet whose
// read model Redis lost (restarted empty) still gets every stored event, at once,
// without waiting for a new one.
func TestLiveAfterRedisLostItsData(t *testing.T) {
	s := stacktest.Start(t)
	id := newWallet()
	const n = 5
	for range n {
		credit(t, s, id, 100)
	}
	s.RestartRedis(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last int64
	f := sse.Follower{Retry: 50 * time.Millisecond}
	err := f.Follow(ctx, walletURL(s, id, "events"), 0, func(e sse.Event) error {
		if e.ID != last+1 {
			return fmt.Errorf("version %d after %d", e.ID, last)
		}
		if last = e.ID; last == n {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("at version %d of %d: %v", last, n, err)
	}
}
