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
	grants   map[string]*item // locks' grants still held, by grantKey
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

// NewModel returns an empty model whose cutoff is cutoff.
func NewModel(cutoff time.Time) *Model {
	return &Model{cutoff: cutoff, items: map[string]*item{}, msgs: map[string]*msg{}, grants: map[string]*item{},
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
	if rest, ok := strings.CutPrefix(e.Stream, "queue."); ok {
		return m.applyQueue(e, m.name(rest))
	}
	domain, _, _ := strings.Cut(e.Stream, ".")
	if domain == lockDomain {
		return m.applyLock(e, m.name(domain))
	}
	return m.applyDomain(e, m.name(domain))
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
