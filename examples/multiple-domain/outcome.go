// Package multipledomain is the expected outcome of the multiple-domain example (casual's,
// A.yaml and B.yaml here): the oracle `uneventful example check multiple-domain`
// (scripts/example.sh) and pkg/queuedomain's test compare a listing with.
package multipledomain

import (
	"fmt"

	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
)

// Check reports how l differs from the outcome of the example once "test\n" was
// enqueued into b1: the message went through echo, b2 and a1 and ended in a1.error; echo
// and rollback were each called once.
func Check(l queuedomain.Listing) error {
	want := map[string]struct {
		count int
		size  int64
		eq    int64
		dq    int64
	}{
		"b1": {0, 0, 1, 1}, "b2": {0, 0, 1, 1}, "b3": {0, 0, 0, 0},
		"a1": {0, 0, 1, 1}, "a1.error": {1, 5, 1, 0}, "a2": {0, 0, 0, 0},
		"b1.error": {0, 0, 0, 0}, "b2.error": {0, 0, 0, 0}, "a2.error": {0, 0, 0, 0},
	}
	for name, w := range want {
		q, ok := l.Queue(name)
		if !ok {
			return fmt.Errorf("queue %s not listed", name)
		}
		if q.Count != w.count || q.Size != w.size || q.Enqueued != w.eq || q.Dequeued != w.dq || q.Uncommitted != 0 {
			return fmt.Errorf("queue %s: count %d size %d EQ %d DQ %d UC %d, want count %d size %d EQ %d DQ %d UC 0",
				name, q.Count, q.Size, q.Enqueued, q.Dequeued, q.Uncommitted, w.count, w.size, w.eq, w.dq)
		}
	}
	for name, group := range map[string]string{"echo": "A", "rollback": "A"} {
		if s := l.Service(name); s.Calls != 1 || s.Group != group {
			return fmt.Errorf("service %s: %d calls in %q, want 1 in %s", name, s.Calls, s.Group, group)
		}
	}
	return nil
}

// CheckCorrelation reports how parked (a1.error, browsed) differs from the outcome once
// "test\n" was enqueued into b1 with correlation id id: one message that kept it through
// echo, b2 and a1, across both domains.
func CheckCorrelation(parked []queue.Browsed, id string) error {
	if len(parked) != 1 {
		return fmt.Errorf("a1.error holds %d messages, want 1", len(parked))
	}
	if got := parked[0].CorrelationID; got != id {
		return fmt.Errorf("the message in a1.error has correlation id %q, want %q (the enqueue's)", got, id)
	}
	return nil
}
