// Package tracker is the model behind the tracker page (contract C11): the work in flight
// across every domain, and what completed, rebuilt from the global history.
//
// A work item is what one correlation id ties together: a queue message and every
// forward, service call, retry and error queue it went through (across domains), a
// command and its events. The Model is a pure fold of history entries, in position
// order: the same entries (and the same cutoff) give the same model. Tracker serves it:
// it replays the stored history in bulk at start, then follows it live.
package tracker

import (
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/queue"
)

// Model is the tracker's in-memory model. Not safe for concurrent use.
//
// The window: an item that completed before the cutoff (SetCutoff; the tracker sets it to
// now minus TRACKER_WINDOW) is dropped as soon as it is both complete and old, so memory
// follows the window, not the length of the history. Events outside the window that
// complete nothing still open (a command's events) are only counted.
type Model struct {
	position int64
	cutoff   time.Time
	items    map[string]*item // by correlation id: in flight, and completed within the window
	msgs     map[string]*msg  // queue messages still in a queue, by message id
	done     []doneEntry      // completed items in completion order; from head on
	head     int
	stale    int    // entries of done whose item was reopened or dropped
	seq      uint64 // the last doneEntry's seq
	domains  map[string]*DomainCounters
	queues   map[string]*QueueCounters
	names    map[string]string // domains, queues and event types, each kept once (name)
}

// maxNames bounds Model.names; past it, names are copied each time.
const maxNames = 1 << 16

type msg struct {
	it     *item
	queue  string
	parked bool
}

type doneEntry struct {
	it  *item
	seq uint64
}

// NewModel returns an empty model whose cutoff is cutoff.
func NewModel(cutoff time.Time) *Model {
	return &Model{cutoff: cutoff, items: map[string]*item{}, msgs: map[string]*msg{},
		domains: map[string]*DomainCounters{}, queues: map[string]*QueueCounters{}, names: map[string]string{}}
}

// Position is the position of the last entry applied.
func (m *Model) Position() int64 { return m.position }

// Len is how many items the model holds (in flight, and completed within the window).
func (m *Model) Len() int { return len(m.items) }

// Apply folds one history entry into the model and reports whether it changed an item.
// Entries must come in position order; one at or before Position is ignored, one without
// an event id (an envelope its reader could not decode) only advances Position. Nothing
// of the entry is kept: the model copies the strings it keeps (a replay hands it entries
// whose strings share a buffer it reuses), and keeps each domain, queue and event type
// once.
func (m *Model) Apply(e history.Entry) bool { return m.apply(e) != nil }

func (m *Model) apply(e history.Entry) *item {
	if e.Position <= m.position {
		return nil
	}
	m.position = e.Position
	if e.ID == "" {
		return nil
	}
	var it *item
	if rest, ok := strings.CutPrefix(e.Stream, "queue."); ok {
		it = m.applyQueue(e, m.name(rest))
	} else {
		domain, _, _ := strings.Cut(e.Stream, ".")
		it = m.applyDomain(e, m.name(domain))
	}
	return it
}

// applyDomain folds a domain's event: a step of the item its correlation id names, or a
// command item of its own, complete at once.
func (m *Model) applyDomain(e history.Entry, domain string) *item {
	d := m.domain(domain)
	d.Events++
	key := e.CorrelationID
	if key == "" {
		key = e.CommandID
	}
	if key == "" {
		key = e.ID
	}
	it := m.items[key]
	if it == nil && e.Time.Before(m.cutoff) {
		return nil // complete at once and old: nothing to keep
	}
	stream := strings.Clone(e.Stream)
	outcome := StateCommitted
	if strings.Contains(e.Type, "reject") {
		outcome = StateRejected
	}
	if it == nil {
		it = m.newItem(key, KindCommand, e)
		d.Started++
		m.step(it, e, domain, stream)
		it.addID(stream)
		it.addID(e.CommandID)
		m.place(it, domain, stream, outcome)
		m.complete(it, e, outcome)
		return it
	}
	m.step(it, e, domain, stream)
	it.addID(stream)
	it.addID(e.CommandID)
	if it.Kind == KindCommand && it.done != 0 {
		it.State = outcome // a later command with the same correlation id
	}
	return it
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
		case it.parked == len(it.live) && it.done == 0:
			m.place(it, domain, it.Where, StateParked)
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
	m.msgs[c.msgID] = &msg{it: it, queue: c.queue}
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
	mm := &msg{it: it, queue: c.queue}
	m.msgs[c.id] = mm
	it.live = append(it.live, c.id)
	it.addID(c.id)
	m.place(it, domain, c.queue, StateQueued)
	return mm
}

func (m *Model) newItem(key, kind string, e history.Entry) *item {
	key = strings.Clone(key)
	it := &item{Item: Item{ID: key, Kind: kind, Status: InFlight, Started: e.Time}}
	m.items[key] = it
	return it
}

func (m *Model) step(it *item, e history.Entry, domain, where string) {
	it.addStep(Step{Position: e.Position, Time: e.Time, Domain: domain, Where: where, Event: m.name(e.Type)})
}

// place sets where the item is, moving it between domains' in-flight counts.
func (m *Model) place(it *item, domain, where, state string) {
	if it.done == 0 && it.Domain != domain {
		if it.Domain != "" {
			m.domain(it.Domain).InFlight--
		}
		m.domain(domain).InFlight++
	}
	it.Domain, it.Where, it.State = domain, where, state
}

// complete ends an item: dropped at once if it completed before the cutoff, else kept
// in the completed list until it is.
func (m *Model) complete(it *item, e history.Entry, state string) {
	d := m.domain(it.Domain)
	d.InFlight--
	d.Completed++
	if state == StateParked {
		d.Parked++
	}
	it.Status, it.State, it.Completed = Completed, state, e.Time
	if e.Time.Before(m.cutoff) {
		m.drop(it)
		return
	}
	m.seq++
	it.done = m.seq
	m.done = append(m.done, doneEntry{it: it, seq: m.seq})
}

// reopen puts a completed item back in flight (a parked message restored).
func (m *Model) reopen(it *item) {
	it.done = 0
	it.Status, it.Completed = InFlight, time.Time{}
	m.domain(it.Domain).InFlight++
	m.stale++
}

// drop forgets a completed item and its parked messages.
func (m *Model) drop(it *item) {
	if m.items[it.ID] == it {
		delete(m.items, it.ID)
	}
	for _, id := range it.live {
		if mm := m.msgs[id]; mm != nil && mm.it == it {
			delete(m.msgs, id)
		}
	}
	if it.done != 0 {
		it.done = 0
		m.stale++
	}
}

// SetCutoff moves the window's start to cutoff (never back) and drops every completed
// item that completed before it. The tracker calls it with now minus its window.
func (m *Model) SetCutoff(cutoff time.Time) {
	if cutoff.After(m.cutoff) {
		m.cutoff = cutoff
	}
	for m.head < len(m.done) {
		d := m.done[m.head]
		if d.it.done == d.seq {
			if !d.it.Completed.Before(m.cutoff) {
				break
			}
			m.drop(d.it)
		}
		m.stale--
		m.done[m.head] = doneEntry{}
		m.head++
	}
	m.compact()
}

// compact drops the completed list's stale entries once they are most of it.
func (m *Model) compact() {
	n := len(m.done) - m.head
	if m.head < 1024 && m.stale < 1024 {
		return
	}
	if m.head <= n && m.stale <= n/2 {
		return
	}
	kept := make([]doneEntry, 0, n-m.stale+64)
	for _, d := range m.done[m.head:] {
		if d.it.done == d.seq {
			kept = append(kept, d)
		}
	}
	m.done, m.head, m.stale = kept, 0, 0
}
