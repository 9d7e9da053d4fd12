package tracker

// The window: completing items, reopening them, and dropping those that completed
// before the cutoff.

import (
	"time"

	"uneventful.dev/uneventful/pkg/history"
)

// doneEntry is an item's entry in Model.done: current while the item's done is seq.
type doneEntry struct {
	it  *item
	seq uint64
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
