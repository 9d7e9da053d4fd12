package tracker

// Lock flows (contract C11, "a lock's grants"): each grant of a lock is an item, from its
// acquire (waiting, if the lock was held) through its grant and renewals to its release,
// its expiry or, for a wait never granted, the wait's end (timeout or cancelled).

import (
	"strconv"
	"strings"

	"uneventful.dev/uneventful/domains/lock"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
)

// lockDomain is the domain whose events are locks' (streams "lock.<name>").
var lockDomain = lock.Domain{}.Name()

// lockChange is what the tracker reads of a lock event's data (domains/lock's events).
type lockChange struct {
	holder, reason string
	token, wait    int64
}

func readLockChange(data []byte) (c lockChange, ok bool) {
	ok = event.EachField(data, func(key, v []byte) {
		switch string(key) {
		case "holder":
			c.holder = text(v)
		case "reason":
			c.reason = text(v)
		case "token":
			c.token = int64(number(v))
		case "wait":
			c.wait = int64(number(v))
		}
	})
	return c, ok
}

// lockItemID is the id of the lock item that an event of stream at version began:
// "<stream>@<version>" (a waiting acquire's version names its wait).
func lockItemID(stream string, version int64) string {
	return stream + "@" + strconv.FormatInt(version, 10)
}

// grantKey names a grant: "<stream>#<token>" (tokens are unique per lock).
func grantKey(stream string, token int64) string {
	return stream + "#" + strconv.FormatInt(token, 10)
}

// applyLock folds a lock's event into the item of its grant (or wait).
func (m *Model) applyLock(e history.Entry, domain string) *item {
	m.domain(domain).Events++
	c, ok := readLockChange(e.Data)
	if !ok {
		return nil
	}
	switch e.Type {
	case lock.EventWaiting:
		it := m.lockItem(e, domain, lockItemID(e.Stream, e.Version))
		return m.lockStep(it, e, domain, c, StateWaiting)
	case lock.EventAcquired:
		var it *item
		if c.wait > 0 {
			it = m.items[lockItemID(e.Stream, c.wait)]
		}
		if it == nil || it.done != 0 {
			it = m.lockItem(e, domain, lockItemID(e.Stream, e.Version))
		}
		key := grantKey(e.Stream, c.token)
		m.grants[key] = it
		it.Token = c.token
		it.addID(key)
		return m.lockStep(it, e, domain, c, StateHeld)
	case lock.EventRenewed:
		key := grantKey(e.Stream, c.token)
		it := m.grants[key]
		if it == nil { // granted before the history began
			it = m.lockItem(e, domain, lockItemID(e.Stream, e.Version))
			m.grants[key] = it
			it.Token = c.token
			it.addID(key)
		}
		return m.lockStep(it, e, domain, c, StateHeld)
	case lock.EventReleased, lock.EventExpired:
		state := StateReleased
		if e.Type == lock.EventExpired {
			state = StateExpired
		}
		key := grantKey(e.Stream, c.token)
		it := m.grants[key]
		delete(m.grants, key)
		if it == nil {
			if e.Time.Before(m.cutoff) {
				return nil // complete at once and old: nothing to keep
			}
			it = m.lockItem(e, domain, lockItemID(e.Stream, e.Version))
			it.Token = c.token
			it.addID(key)
		}
		m.lockStep(it, e, domain, c, state)
		m.complete(it, e, state)
		return it
	case lock.EventWaitEnded:
		state := StateTimedOut
		if c.reason == lock.ReasonCancelled {
			state = StateCancelled
		}
		it := m.items[lockItemID(e.Stream, c.wait)]
		if it == nil || it.done != 0 {
			if e.Time.Before(m.cutoff) {
				return nil
			}
			it = m.lockItem(e, domain, lockItemID(e.Stream, e.Version))
		}
		m.lockStep(it, e, domain, c, state)
		m.complete(it, e, state)
		return it
	}
	return nil
}

// lockItem returns a new lock item id, in flight.
func (m *Model) lockItem(e history.Entry, domain, id string) *item {
	it := m.newItem(id, KindLock, e)
	m.domain(domain).Started++
	it.addID(e.Stream)
	return it
}

// lockStep records e on it, with its holder and the command that caused it (found by
// their ids), and places it in state.
func (m *Model) lockStep(it *item, e history.Entry, domain string, c lockChange, state string) *item {
	if c.holder != "" {
		it.Holder = c.holder
	}
	it.addID(e.CorrelationID)
	it.addID(e.CommandID)
	stream := strings.Clone(e.Stream)
	m.step(it, e, domain, stream)
	m.place(it, domain, stream, state)
	return it
}
