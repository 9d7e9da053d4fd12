package tracker

// Queue flows: a message's enqueue, dequeue, rollback, commit, removal, move to its error
// queue and restore, across domains, tied into one item by its correlation id.

import (
	"strings"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/queue"
)

// msg is a queue message the model follows: the item it belongs to, the queue it is in
// and that queue's domain.
type msg struct {
	it            *item
	domain, queue string
	parked        bool
}

// applyQueue folds a queue event of domain.
func (m *Model) applyQueue(e history.Entry, domain string) *item {
	m.domain(domain).Events++
	c, ok := m.readQueueChange(e.Data)
	if !ok {
		return nil
	}
	q := m.queue(c.queue, domain)
	switch e.Type {
	case queue.Enqueued:
		q.Enqueued++
		q.Count++
		return m.enqueued(e, domain, c)
	case queue.DequeuedType:
		q.Dequeued++
		mm := m.message(e, domain, c)
		if mm == nil {
			return nil
		}
		if mm.it.done != 0 {
			m.reopen(mm.it) // taken from an error queue
		}
		m.step(mm.it, e, domain, c.queue)
		m.place(mm.it, domain, c.queue, StateProcessing)
		return mm.it
	case queue.RolledBack:
		q.RolledBack++
		mm := m.message(e, domain, c)
		if mm == nil {
			return nil
		}
		it := mm.it
		it.Retries++
		m.step(it, e, domain, c.queue)
		if mm.parked && it.parked == len(it.live) && it.done == 0 { // back in its error queue
			m.place(it, domain, c.queue, StateParked)
			m.complete(it, e, StateParked)
			return it
		}
		m.place(it, domain, c.queue, StateRetrying)
		return it
	case queue.Committed, queue.Removed:
		state := StateCommitted
		if e.Type == queue.Removed {
			q.Removed++
			state = StateRemoved
		} else {
			q.Committed++
		}
		q.Count--
		mm := m.msgs[c.id]
		if mm == nil {
			return nil // a message whose item is gone (out of the window) or unknown
		}
		it := mm.it
		delete(m.msgs, c.id)
		it.dropLive(c.id)
		if mm.parked {
			it.parked--
		}
		m.step(it, e, domain, c.queue)
		if it.done != 0 && len(it.live) == 0 {
			m.reopen(it) // a parked message removed: it ends again, removed
		}
		switch {
		case len(it.live) == 0:
			m.place(it, domain, c.queue, state)
			m.complete(it, e, state)
		case it.parked == len(it.live) && it.done == 0: // the rest are parked: it ends where one is
			p := m.msgs[it.live[len(it.live)-1]]
			m.place(it, p.domain, p.queue, StateParked)
			m.complete(it, e, StateParked)
		}
		return it
	case queue.MovedToError, queue.Restored:
		to := m.queue(c.to, domain)
		q.Count--
		to.Count++
		if e.Type == queue.MovedToError {
			q.ToError++
		} else {
			q.Restored++
		}
		mm := m.message(e, domain, c)
		if mm == nil {
			return nil
		}
		it := mm.it
		m.step(it, e, domain, c.to)
		mm.queue = c.to
		if e.Type == queue.Restored {
			if mm.parked {
				mm.parked = false
				it.parked--
			}
			if it.done != 0 {
				m.reopen(it)
			}
			m.place(it, domain, c.to, StateQueued)
			return it
		}
		if !mm.parked {
			mm.parked = true
			it.parked++
		}
		if it.parked == len(it.live) && it.done == 0 {
			m.place(it, domain, c.to, StateParked)
			m.complete(it, e, StateParked)
		}
		return it
	}
	return nil
}

// enqueued folds an enqueue: the message joins the item of its correlation id, else
// (an enqueue written before queue events carried one) the item of the message a
// forward's deduplication key ("<alias>/<message id>") names, else its own.
func (m *Model) enqueued(e history.Entry, domain string, c queueChange) *item {
	key := e.CorrelationID
	if key == "" {
		key = c.correlation
	}
	var it *item
	if key == "" {
		if _, src, ok := strings.Cut(c.dedup, "/"); ok {
			if mm := m.msgs[src]; mm != nil {
				it = mm.it
			}
		}
		key = c.msgID
	}
	if it == nil {
		it = m.items[key]
	}
	if it == nil {
		it = m.newItem(key, KindQueue, e)
		m.domain(domain).Started++
	} else if it.done != 0 {
		m.reopen(it)
	}
	if old := m.msgs[c.msgID]; old != nil && old.it != it { // the same id enqueued again
		old.it.dropLive(c.msgID)
	}
	if m.msgs[c.msgID] == nil || m.msgs[c.msgID].it != it {
		it.live = append(it.live, c.msgID)
	}
	m.msgs[c.msgID] = &msg{it: it, domain: domain, queue: c.queue}
	it.addID(c.msgID)
	m.step(it, e, domain, c.queue)
	m.place(it, domain, c.queue, StateQueued)
	return it
}

// message returns the message an event is about; one the model does not know (enqueued
// before the history began, or its item dropped out of the window) joins the item of the
// event's correlation id, else an item of its own.
func (m *Model) message(e history.Entry, domain string, c queueChange) *msg {
	if mm := m.msgs[c.id]; mm != nil {
		return mm
	}
	if c.id == "" {
		return nil
	}
	key := e.CorrelationID
	if key == "" {
		key = c.id
	}
	it := m.items[key]
	if it == nil {
		it = m.newItem(key, KindQueue, e)
		m.domain(domain).Started++
	} else if it.done != 0 {
		m.reopen(it)
	}
	mm := &msg{it: it, domain: domain, queue: c.queue}
	m.msgs[c.id] = mm
	it.live = append(it.live, c.id)
	it.addID(c.id)
	m.place(it, domain, c.queue, StateQueued)
	return mm
}
