package livefeed

import "sync"

// Subscription is one subscriber's live events of one stream.
type Subscription struct {
	f      *Feed
	stream string
	c      chan *Event
	gone   chan struct{}
	resync chan struct{}
	once   sync.Once
}

// Events delivers the live events in the order NATS delivered them (versions may repeat
// or skip: check them against the last one sent).
func (s *Subscription) Events() <-chan *Event { return s.c }

// Gone is closed when the subscriber was dropped (its buffer was full, or the feed
// closed): it must resume from the stored events.
func (s *Subscription) Gone() <-chan struct{} { return s.gone }

// Resync receives after the connection to NATS came back: the stored events must be read
// again after the last version sent.
func (s *Subscription) Resync() <-chan struct{} { return s.resync }

// Close unregisters the subscriber.
func (s *Subscription) Close() {
	s.f.mu.Lock()
	if set := s.f.subs[s.stream]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(s.f.subs, s.stream)
		}
	}
	s.f.mu.Unlock()
	s.drop()
}

func (s *Subscription) drop() { s.once.Do(func() { close(s.gone) }) }
