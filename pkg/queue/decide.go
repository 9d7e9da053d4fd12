package queue

import (
	"fmt"
)

// decide handles one request on q; wait reports a dequeue to retry until its deadline.
func (o *Owner) decide(q *queueState, req request) (resp response, wait bool) {
	now := o.now
	switch req.Op {
	case opEnqueue:
		if q.noEnqueue {
			return response{Error: ErrDisabled}, false
		}
		if req.Message == nil {
			return response{Error: withMessage(ErrInvalid, "enqueue without a message")}, false
		}
		if id, ok := o.st.dedup[req.Message.Dedup]; ok && req.Message.Dedup != "" {
			return response{ID: id}, false // already enqueued: the same id, nothing new
		}
		m := *req.Message
		if m.CorrelationID != "" && !ValidCorrelationID(m.CorrelationID) {
			return response{Error: withMessage(ErrInvalid, "correlation id: want 1 to 64 printable ASCII characters without spaces")}, false
		}
		if m.ID == "" {
			m.ID = newID()
		}
		if m.CorrelationID == "" {
			m.CorrelationID = m.ID
		}
		m.Time, m.Available, m.Redelivered = now, now.Add(req.Delay), 0
		o.emit(change{Type: Enqueued, Queue: q.name, Message: &m, Time: now, causation: req.Causation})
		return response{ID: m.ID}, false
	case opDequeue:
		if q.noDequeue {
			return response{Error: ErrDisabled}, false
		}
		m := q.first(now, req.ID, req.Properties)
		if m == nil {
			return response{Error: ErrNoMessage}, req.Wait > 0
		}
		lease := req.LeaseFor
		if lease <= 0 {
			lease = DefaultLease
		}
		token := newID()
		o.emit(change{Type: DequeuedType, Queue: q.name, ID: m.ID, Lease: token, LeaseUntil: now.Add(lease), Time: now})
		return response{Message: &Dequeued{Message: *m, Queue: q.name, Lease: token, EventID: m.event}}, false
	case opCommit, opRollback:
		m := q.byID[req.ID]
		if m == nil || m.lease == "" || m.lease != req.Lease {
			return response{Error: ErrLeaseLost}, false
		}
		if req.Op == opCommit {
			o.emit(change{Type: Committed, Queue: q.name, ID: m.ID, Time: now})
		} else {
			o.emit(q.rollback(m, now, "rollback")...)
		}
		return response{}, false
	case opBrowse:
		out := make([]Browsed, 0, len(q.byID))
		for _, m := range q.msgs {
			if m != nil {
				out = append(out, Browsed{Message: *m, State: m.State(now)})
			}
		}
		return response{Messages: out, Count: len(out)}, false
	case opRestore:
		return o.restore(q), false
	case opClear, opRemove:
		n := 0
		ids := req.IDs
		if req.Op == opClear {
			ids = nil
			for _, m := range q.msgs {
				if m != nil && m.lease == "" {
					ids = append(ids, m.ID)
				}
			}
		}
		for _, id := range ids {
			if m := q.byID[id]; m != nil {
				o.emit(change{Type: Removed, Queue: q.name, ID: id, Reason: req.Op, Time: now})
				n++
			}
		}
		return response{Count: n}, false
	}
	return response{Error: withMessage(ErrInvalid, fmt.Sprintf("unknown operation %q", req.Op))}, false
}

// restore moves every message not dequeued from an error queue back to its queue;
// asked of the queue itself, it restores from the queue's error queue.
func (o *Owner) restore(q *queueState) response {
	from, to := q, o.st.queues[trimError(q.name)]
	if q.errorQueue != "" {
		from, to = o.st.queues[q.errorQueue], q
	}
	if to == nil || from == to {
		return response{Error: withMessage(ErrInvalid, "restore needs a queue with an error queue")}
	}
	n := 0
	for _, m := range from.msgs {
		if m != nil && m.lease == "" {
			o.emit(change{Type: Restored, Queue: from.name, ID: m.ID, To: to.name, Available: o.now, Time: o.now})
			n++
		}
	}
	return response{Count: n}
}

func trimError(name string) string {
	if len(name) > len(ErrorSuffix) && name[len(name)-len(ErrorSuffix):] == ErrorSuffix {
		return name[:len(name)-len(ErrorSuffix)]
	}
	return name
}

// expireLeases rolls back messages whose dequeuer did not commit or roll back in time.
func (o *Owner) expireLeases() {
	for _, name := range o.st.order {
		q := o.st.queues[name]
		for _, m := range q.inflight {
			if o.now.After(m.leaseUntil) {
				o.emit(q.rollback(m, o.now, "lease expired")...)
			}
		}
	}
}

// serveWaiters retries blocked dequeues, answering those past their deadline.
func (o *Owner) serveWaiters() {
	kept := o.waiters[:0]
	for _, w := range o.waiters {
		q := o.st.queues[w.msg.Subject[len(subjectPrefix):]]
		resp, wait := o.decide(q, w.req)
		if wait && o.now.Before(w.deadline) {
			kept = append(kept, w)
			continue
		}
		o.answer(w.msg, resp)
	}
	clear(o.waiters[len(kept):])
	o.waiters = kept
}
