package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/sse"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// streamLog is what a subscriber received, per stream: the last version, checked to
// follow the one before (nothing missed, nothing doubled).
type streamLog struct {
	mu   sync.Mutex
	last map[string]int64
	pos  int64
	err  error
}

func (l *streamLog) handle(e sse.Event) error {
	var env event.Envelope
	if err := e.Decode(&env); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if env.Version != l.last[env.Stream]+1 || e.ID <= l.pos {
		l.err = fmt.Errorf("%s version %d (id %d) after %d (id %d)", env.Stream, env.Version, e.ID, l.last[env.Stream], l.pos)
		return l.err
	}
	l.last[env.Stream], l.pos = env.Version, e.ID
	return nil
}

func (l *streamLog) at(stream string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[stream], l.err
}

// TestLiveAcrossFaults: subscribers of each wallet (on the server process) and of the
// whole history follow while a keyed load runs and the writer is SIGKILLed and NATS
// restarted; each ends with every accepted event of its streams, in order, once.
func TestLiveAcrossFaults(t *testing.T) {
	s, w, srv, _ := processStack(t, "")
	wallets := newWallets(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	logs := map[string]*streamLog{}
	follow := func(name, url string) {
		l := &streamLog{last: map[string]int64{}}
		logs[name] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := sse.Follower{Retry: 50 * time.Millisecond}
			f.Follow(ctx, url, 0, l.handle) //nolint:errcheck // l.err says what went wrong
		}()
	}
	for _, id := range wallets {
		follow(id, srv.URL+"/wallet/"+id+"/events")
	}
	follow("history", s.HistoryURL+"/history/events?stream=wallet.")

	stop := make(chan struct{})
	done := make(chan []keyedOutcome)
	go func() {
		done <- runKeyedLoad(func() string { return srv.URL }, wallets, 6, uint64(time.Now().UnixNano()), stop, nil, nil)
	}()
	time.Sleep(500 * time.Millisecond) // load before the first fault
	w.Kill()
	w.Start()
	time.Sleep(500 * time.Millisecond)
	s.RestartNATS(300 * time.Millisecond)
	time.Sleep(time.Second)
	w.Kill()
	w.Start()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	totals, f := checkKeyed(t, walletDB(t, s), <-done)
	t.Logf("load: %s", f)
	for _, id := range wallets {
		want := totals[id].Accepted
		for _, name := range []string{id, "history"} {
			stacktest.Eventually(t, 60*time.Second, func() error {
				got, err := logs[name].at("wallet." + id)
				if err != nil {
					t.Fatalf("subscriber %s: %v", name, err)
				}
				if got != want {
					return fmt.Errorf("subscriber %s: wallet %s at version %d, want %d", name, id, got, want)
				}
				return nil
			})
		}
	}
}
