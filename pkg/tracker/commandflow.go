package tracker

// Command flows: a domain's events, steps of the item their correlation id names, or a
// command's item of its own.

import (
	"strings"

	"uneventful.dev/uneventful/pkg/history"
)

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
