package tracker

// The model's counters per domain and per queue, and the names it keeps once each.

import (
	"bytes"
	"strings"
)

// DomainCounters counts a domain's events and items (an item counts in the domain it is
// in now, or ended in).
type DomainCounters struct {
	Domain    string `json:"domain"`
	Events    int64  `json:"events"`
	Started   int64  `json:"started"`   // items that began here
	InFlight  int64  `json:"in_flight"` // items here now, not complete
	Completed int64  `json:"completed"` // completions here (an item restored and parked again counts twice)
	Parked    int64  `json:"parked"`    // of Completed, parked in an error queue
}

// QueueCounters counts a queue's events; Count is how many messages it holds now.
type QueueCounters struct {
	Queue      string `json:"queue"`
	Domain     string `json:"domain"`
	Count      int64  `json:"count"`
	Enqueued   int64  `json:"enqueued"`
	Dequeued   int64  `json:"dequeued"`
	Committed  int64  `json:"committed"`
	RolledBack int64  `json:"rolled_back"`
	ToError    int64  `json:"to_error"`
	Restored   int64  `json:"restored"`
	Removed    int64  `json:"removed"`
}

// name returns s as the model keeps it: one copy per distinct name (domains, queues,
// event types), not sharing the entry's memory.
func (m *Model) name(s string) string {
	if v, ok := m.names[s]; ok {
		return v
	}
	v := strings.Clone(s)
	if len(m.names) < maxNames {
		m.names[v] = v
	}
	return v
}

// nameOf is name of the JSON string v, unquoted (text); "" if v is not a string.
func (m *Model) nameOf(v []byte) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		if n, ok := m.names[string(v[1:len(v)-1])]; ok {
			return n
		}
	}
	return m.name(text(v))
}

func (m *Model) domain(name string) *DomainCounters {
	d := m.domains[name]
	if d == nil {
		d = &DomainCounters{Domain: name}
		m.domains[name] = d
	}
	return d
}

func (m *Model) queue(name, domain string) *QueueCounters {
	q := m.queues[name]
	if q == nil {
		q = &QueueCounters{Queue: name, Domain: domain}
		m.queues[name] = q
	}
	return q
}
