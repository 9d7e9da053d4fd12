package livefeed_test

import (
	"fmt"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/livefeed"
	"uneventful.dev/uneventful/pkg/stacktest"
)

func envelope(stream string, v int) []byte {
	return fmt.Appendf(nil, `{"id":"e%d","stream":%q,"version":%d,"type":"credited","data":{}}`, v, stream, v)
}

// TestSlowSubscriberIsDropped: a subscriber that does not take its events is dropped
// once its buffer is full, and the other subscribers of the stream get every event.
func TestSlowSubscriberIsDropped(t *testing.T) {
	ns := stacktest.NATS(t)
	nc := stacktest.Connect(t, ns)
	f, err := livefeed.Start(nc, "wallet")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	slow, fast := f.Subscribe("wallet.a"), f.Subscribe("wallet.a")
	defer slow.Close()
	defer fast.Close()
	other := f.Subscribe("wallet.b") // another stream's subscriber gets nothing of wallet.a
	defer other.Close()
	pub := stacktest.Connect(t, ns)
	const n = livefeed.Buffer + 50
	got := make(chan int64, n)
	go func() {
		for range fast.Ready() {
			news := fast.Take()
			for _, e := range news.Events {
				got <- e.Version
			}
			if news.Gone {
				return
			}
		}
	}()
	// One event at a time, the next once the fast subscriber has the last: it keeps up by
	// construction (were all published at once, a machine that did not run its reader for
	// a while would rightly drop it too), while the slow one never reads.
	for v := 1; v <= n; v++ {
		if err := pub.Publish("events.wallet.a", envelope("wallet.a", v)); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-got:
			if g != int64(v) {
				t.Fatalf("fast subscriber: version %d, want %d", g, v)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("fast subscriber: no version %d", v)
		}
	}
	news := slow.Take()
	if !news.Gone {
		t.Error("the slow subscriber was not dropped")
	}
	if len(news.Events) != livefeed.Buffer {
		t.Errorf("slow subscriber holds %d events, want its buffer full (%d)", len(news.Events), livefeed.Buffer)
	}
	for i, e := range news.Events {
		if e.Version != int64(i+1) {
			t.Fatalf("slow subscriber's event %d is version %d, want %d", i, e.Version, i+1)
		}
	}
	if news := other.Take(); len(news.Events) != 0 || news.Gone {
		t.Errorf("wallet.b's subscriber got %d events of wallet.a (gone: %v)", len(news.Events), news.Gone)
	}
	if f.Subscribers() != 2 {
		t.Errorf("%d subscribers registered, want 2 (fast and other)", f.Subscribers())
	}
}
