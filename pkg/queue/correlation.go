package queue

// ValidCorrelationID reports whether id is a correlation id a caller may pass: 1 to 64
// printable ASCII characters without spaces (the rule of the HTTP edge's
// X-Correlation-Id, so an id from an HTTP request always fits).
func ValidCorrelationID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// link sets c's correlation id (its message's) and, but for an enqueue, whose cause the
// enqueuer gives, its causation id: the message's previous event. c is about to be
// applied; its message is still where c finds it.
func (s *domainState) link(c *change) {
	if c.Type == Enqueued {
		c.correlation = c.Message.CorrelationID
		return
	}
	if q := s.queues[c.Queue]; q != nil {
		if m := q.byID[c.ID]; m != nil {
			c.correlation, c.causation = m.CorrelationID, m.event
		}
	}
}
