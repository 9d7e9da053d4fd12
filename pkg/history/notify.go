package history

import "sync"

// notifier tells the stream readers that events were appended: each waits on the
// channel of the moment it last read, which the next commit closes and replaces. The
// zero value is ready. No event passes through it: a reader reads the log itself, so
// readers hold no buffer and none can slow the append.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next commit after this call.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

// notify wakes every reader waiting.
func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// Appended returns a channel closed when events are next appended to s (after their
// transaction committed): take it before reading, then read, then wait on it, and no
// event is missed.
func (s *Store) Appended() <-chan struct{} { return s.appended.wait() }
