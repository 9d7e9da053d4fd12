package livefeed

import (
	"fmt"
	"testing"
)

// TestBufferGrowsToItsBound: an idle subscriber holds no buffer; the buffer grows with
// the events waiting, never past Buffer, and is let go when they are taken; the event
// after Buffer waiting drops the subscriber, while a subscriber of the same stream that
// takes its events keeps them all, in order.
func TestBufferGrowsToItsBound(t *testing.T) {
	f := &Feed{subs: map[string][]*Subscription{}, done: make(chan struct{})}
	slow, fast := f.Subscribe("wallet.a"), f.Subscribe("wallet.a")
	if slow.waiting != nil || len(slow.ready) != 0 {
		t.Fatalf("a new subscriber holds a buffer of %d or news", cap(slow.waiting))
	}
	send := func(v int) {
		f.deliver("wallet.a", fmt.Appendf(nil, `{"id":"e%d","stream":"wallet.a","version":%d,"type":"credited","data":{}}`, v, v))
	}
	next := int64(1)
	for v := 1; v <= Buffer; v++ {
		send(v)
		if c := cap(slow.waiting); c < v || c > Buffer || c > 2*v+4 {
			t.Fatalf("%d events waiting in a buffer of %d: want at least as many, at most %d and about twice as many", v, c, Buffer)
		}
		if v%7 == 0 { // fast takes now and then
			for _, e := range fast.Take().Events {
				if e.Version != next {
					t.Fatalf("fast subscriber: version %d, want %d", e.Version, next)
				}
				next++
			}
		}
	}
	select {
	case <-slow.Ready():
	default:
		t.Fatal("a subscriber with events waiting is not ready")
	}
	if got := f.Subscribers(); got != 2 {
		t.Fatalf("%d subscribers with a full buffer and one to spare, want 2", got)
	}
	send(Buffer + 1)
	news := slow.Take()
	if !news.Gone || len(news.Events) != Buffer {
		t.Fatalf("after %d events untaken: gone %v with %d events, want gone with %d", Buffer+1, news.Gone, len(news.Events), Buffer)
	}
	if got := f.Subscribers(); got != 1 {
		t.Fatalf("%d subscribers after the slow one was dropped, want 1", got)
	}
	send(Buffer + 2)
	if news := slow.Take(); len(news.Events) != 0 || !news.Gone {
		t.Fatalf("a dropped subscriber got %d more events (gone %v)", len(news.Events), news.Gone)
	}
	for _, e := range fast.Take().Events {
		if e.Version != next {
			t.Fatalf("fast subscriber: version %d, want %d", e.Version, next)
		}
		next++
	}
	if next != Buffer+3 {
		t.Fatalf("fast subscriber got versions up to %d, want %d", next-1, Buffer+2)
	}
	if fast.waiting != nil {
		t.Fatalf("a buffer of %d kept after its events were taken", cap(fast.waiting))
	}
	fast.Close()
	slow.Close()
	if got := f.Subscribers(); got != 0 {
		t.Fatalf("%d subscribers after both closed", got)
	}
}
