package tracker

import (
	"cmp"
	"slices"
	"time"
)

// Filter selects items: by status (InFlight or Completed), and optionally by domain or
// queue (where it is or went through) and by id (its correlation id, a message id, an
// entity id or stream, a command id). Limit bounds how many are returned.
type Filter struct {
	Status string
	Domain string
	Queue  string
	Search string
	Limit  int

	searches []string // Search's forms (searchForms), set by Items
}

// Items returns the items f selects, newest first (in flight: by their newest event;
// completed: by completion), at most f.Limit, and how many match in all. The items are
// copies: the model does not change them afterwards.
func (m *Model) Items(f Filter) (items []Item, total int) {
	items = []Item{}
	f.searches = searchForms(f.Search)
	if f.Status == Completed {
		for i := len(m.done) - 1; i >= m.head; i-- {
			d := m.done[i]
			if d.it.done != d.seq || !d.it.matches(f) {
				continue
			}
			total++
			if len(items) < f.Limit {
				items = append(items, d.it.view())
			}
		}
		return items, total
	}
	var sel []*item
	for _, it := range m.items {
		if it.done == 0 && it.matches(f) {
			sel = append(sel, it)
		}
	}
	slices.SortFunc(sel, func(a, b *item) int { return cmp.Compare(b.Position, a.Position) })
	for _, it := range sel[:min(len(sel), f.Limit)] {
		items = append(items, it.view())
	}
	return items, len(sel)
}

// Item returns the item of a correlation id, if the model holds it.
func (m *Model) Item(id string) (Item, bool) {
	it := m.items[id]
	if it == nil {
		return Item{}, false
	}
	return it.view(), true
}

// Counters are the per-domain and per-queue counters, by name.
type Counters struct {
	Position  int64            `json:"position"` // the newest history entry applied
	InFlight  int              `json:"in_flight"`
	Completed int              `json:"completed"` // within the window
	Window    time.Time        `json:"window_start"`
	Domains   []DomainCounters `json:"domains"`
	Queues    []QueueCounters  `json:"queues"`
}

// Counters returns a copy of the counters.
func (m *Model) Counters() Counters {
	c := Counters{Position: m.position, Completed: len(m.done) - m.head - m.stale, Window: m.cutoff,
		Domains: []DomainCounters{}, Queues: []QueueCounters{}}
	c.InFlight = len(m.items) - c.Completed
	for _, d := range m.domains {
		c.Domains = append(c.Domains, *d)
	}
	for _, q := range m.queues {
		c.Queues = append(c.Queues, *q)
	}
	slices.SortFunc(c.Domains, func(a, b DomainCounters) int { return cmp.Compare(a.Domain, b.Domain) })
	slices.SortFunc(c.Queues, func(a, b QueueCounters) int { return cmp.Compare(a.Queue, b.Queue) })
	return c
}

// Snapshot is the whole model as data: two models built from the same entries have equal
// snapshots.
type Snapshot struct {
	Counters  Counters
	InFlight  []Item            // by correlation id
	Completed []Item            // in completion order
	Messages  map[string]string // message id: its item's id and queue
	Grants    map[string]string // grantKey: its item's id
}

// Snapshot returns the model as data.
func (m *Model) Snapshot() Snapshot {
	s := Snapshot{Counters: m.Counters(), Messages: map[string]string{}, Grants: map[string]string{}}
	for _, it := range m.items {
		if it.done == 0 {
			s.InFlight = append(s.InFlight, it.view())
		}
	}
	slices.SortFunc(s.InFlight, func(a, b Item) int { return cmp.Compare(a.ID, b.ID) })
	for _, d := range m.done[m.head:] {
		if d.it.done == d.seq {
			s.Completed = append(s.Completed, d.it.view())
		}
	}
	for id, mm := range m.msgs {
		s.Messages[id] = mm.it.ID + " " + mm.queue
	}
	for key, it := range m.grants {
		s.Grants[key] = it.ID
	}
	return s
}
