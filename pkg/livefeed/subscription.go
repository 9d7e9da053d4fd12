package livefeed

import "sync"

// Subscription is one subscriber's live events of one stream. Its buffer grows with the
// events waiting, up to Buffer, and is let go once they are taken: an idle subscriber
// holds no buffer.
type Subscription struct {
	f      *Feed
	stream string
	ready  chan struct{} // holds one token while something is waiting to be taken

	mu      sync.Mutex
	waiting []*Event // delivered, not yet taken; at most Buffer
	resync  bool
	gone    bool
}

// News is what a subscriber takes at once: the live events delivered since it last took,
// in the order NATS delivered them (versions may repeat or skip: check them against the
// last one sent), and what else happened meanwhile.
type News struct {
	Events []*Event
	// Resync: the connection to NATS came back: the stored events must be read again
	// after the last version sent (events published while it was down never came).
	Resync bool
	// Gone: the subscriber was dropped (its buffer was full, or the feed closed): it
	// must resume from the stored events.
	Gone bool
}

// Ready receives when there is news to take (Take).
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Take returns the news since the last Take and empties the buffer.
func (s *Subscription) Take() News {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := News{Events: s.waiting, Resync: s.resync, Gone: s.gone}
	s.waiting, s.resync = nil, false
	return n
}

// Close unregisters the subscriber.
func (s *Subscription) Close() {
	s.f.mu.Lock()
	s.f.remove(s)
	s.f.mu.Unlock()
	s.drop()
}

// push adds e to the events waiting; false (and nothing added) when Buffer are waiting.
func (s *Subscription) push(e *Event) bool {
	s.mu.Lock()
	ok := !s.gone && len(s.waiting) < Buffer
	if ok {
		if len(s.waiting) == cap(s.waiting) { // grow by doubling, never past Buffer
			grown := make([]*Event, len(s.waiting), min(Buffer, max(4, 2*cap(s.waiting))))
			copy(grown, s.waiting)
			s.waiting = grown
		}
		s.waiting = append(s.waiting, e)
	}
	s.mu.Unlock()
	if ok {
		s.wake()
	}
	return ok
}

// askResync marks that the stored events must be read again.
func (s *Subscription) askResync() {
	s.mu.Lock()
	s.resync = true
	s.mu.Unlock()
	s.wake()
}

// drop marks the subscriber gone.
func (s *Subscription) drop() {
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription) wake() {
	select {
	case s.ready <- struct{}{}:
	default: // a token is there already: the subscriber takes everything at once
	}
}
