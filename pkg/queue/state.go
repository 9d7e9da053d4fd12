package queue

import (
	"fmt"
	"time"
)

// domainState is the queues of one domain: a fold of the domain's queue events. Only
// the owner's loop touches it.
type domainState struct {
	domain  string
	queues  map[string]*queueState
	order   []string          // queue names as configured, then their error queues
	dedup   map[string]string // enqueue deduplication key -> message id
	version int64             // of the last event applied
}

type queueState struct {
	name       string
	errorQueue string // "" for an error queue
	retryCount int
	retryDelay time.Duration
	noEnqueue  bool
	noDequeue  bool

	msgs     []*Message // enqueue order; removed entries are nil until compacted
	byID     map[string]*Message
	holes    int
	size     int64
	eq, dq   int64
	last     time.Time
	inflight map[string]*Message // dequeued, not yet committed or rolled back
}

func newDomainState(cfg Config) *domainState {
	s := &domainState{domain: cfg.Domain, queues: map[string]*queueState{}, dedup: map[string]string{}}
	for _, qc := range cfg.Queues {
		s.add(&queueState{name: qc.Name, errorQueue: qc.Name + ErrorSuffix, retryCount: qc.Retry.Count,
			retryDelay: time.Duration(qc.Retry.Delay), noEnqueue: qc.Disable.Enqueue, noDequeue: qc.Disable.Dequeue})
	}
	for _, qc := range cfg.Queues {
		s.add(&queueState{name: qc.Name + ErrorSuffix})
	}
	return s
}

func (s *domainState) add(q *queueState) {
	q.byID, q.inflight = map[string]*Message{}, map[string]*Message{}
	s.queues[q.name] = q
	s.order = append(s.order, q.name)
}

func (q *queueState) push(m *Message) {
	q.msgs = append(q.msgs, m)
	q.byID[m.ID] = m
	q.size += int64(len(m.Payload))
}

func (q *queueState) drop(m *Message) {
	delete(q.inflight, m.ID)
	delete(q.byID, m.ID)
	q.size -= int64(len(m.Payload))
	for i, x := range q.msgs {
		if x == m {
			q.msgs[i] = nil
			q.holes++
			break
		}
	}
	if q.holes > 64 && q.holes > len(q.msgs)/2 {
		kept := q.msgs[:0]
		for _, x := range q.msgs {
			if x != nil {
				kept = append(kept, x)
			}
		}
		clear(q.msgs[len(kept):])
		q.msgs, q.holes = kept, 0
	}
}

// first returns the first message that can be dequeued now, selected by id or
// properties when they are set.
func (q *queueState) first(now time.Time, id, properties string) *Message {
	if id != "" {
		m := q.byID[id]
		if m == nil || m.lease != "" || m.Available.After(now) {
			return nil
		}
		return m
	}
	for _, m := range q.msgs {
		if m == nil || m.lease != "" || m.Available.After(now) {
			continue
		}
		if properties != "" && m.Properties != properties {
			continue
		}
		return m
	}
	return nil
}

func (q *queueState) info(domain string) QueueInfo {
	return QueueInfo{Name: q.name, Group: domain, RetryCount: q.retryCount, RetryDelay: q.retryDelay.Seconds(),
		Count: len(q.byID), Size: q.size, Enqueued: q.eq, Dequeued: q.dq, Uncommitted: len(q.inflight), Last: q.last}
}

// apply folds one event into the state. Events come from this state's own decisions
// or from the stream at start, so a change that does not fit is a bug, reported.
func (s *domainState) apply(c change) error {
	q := s.queues[c.Queue]
	if q == nil {
		return fmt.Errorf("queue event %s for unknown queue %q", c.Type, c.Queue)
	}
	if c.Type == Enqueued {
		m := *c.Message
		if m.CorrelationID == "" { // enqueued before messages had one
			m.CorrelationID = m.ID
		}
		m.event = c.event
		q.push(&m)
		q.eq++
		q.last = c.Time
		if m.Dedup != "" {
			s.dedup[m.Dedup] = m.ID
		}
		return nil
	}
	m := q.byID[c.ID]
	if m == nil {
		return fmt.Errorf("queue event %s for unknown message %s in %q", c.Type, c.ID, c.Queue)
	}
	q.last = c.Time
	m.event = c.event
	switch c.Type {
	case DequeuedType:
		m.lease, m.leaseUntil = c.Lease, c.LeaseUntil
		q.inflight[m.ID] = m
		q.dq++
	case Committed:
		q.drop(m)
	case RolledBack:
		delete(q.inflight, m.ID)
		m.lease, m.leaseUntil = "", time.Time{}
		m.Redelivered, m.Available = c.Redelivered, c.Available
	case MovedToError, Restored:
		to := s.queues[c.To]
		if to == nil {
			return fmt.Errorf("queue event %s to unknown queue %q", c.Type, c.To)
		}
		q.drop(m)
		moved := *m
		moved.lease, moved.leaseUntil = "", time.Time{}
		moved.Available, moved.Time = c.Available, c.Time
		if c.Type == Restored {
			moved.Redelivered = 0
		}
		to.push(&moved)
		to.eq++
		to.last = c.Time
	case Removed:
		q.drop(m)
	default:
		return fmt.Errorf("unknown queue event type %q", c.Type)
	}
	return nil
}

// rollback returns the events of rolling m back now: redelivered + 1 and available
// after the retry delay, or, once redelivered exceeds the retry count, a move to the
// error queue.
func (q *queueState) rollback(m *Message, now time.Time, reason string) []change {
	n := m.Redelivered + 1
	if q.errorQueue != "" && n > q.retryCount {
		return []change{
			{Type: RolledBack, Queue: q.name, ID: m.ID, Redelivered: n, Available: now, Reason: reason, Time: now},
			{Type: MovedToError, Queue: q.name, ID: m.ID, To: q.errorQueue, Available: now, Time: now},
		}
	}
	return []change{{Type: RolledBack, Queue: q.name, ID: m.ID, Redelivered: n, Available: now.Add(q.retryDelay), Reason: reason, Time: now}}
}
