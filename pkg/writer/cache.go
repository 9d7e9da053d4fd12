package writer

// DefaultEntityCache is how many entities a writer keeps in memory by default: about
// 50 MB of wallets (BENCHMARKS.md, "Writer memory").
const DefaultEntityCache = 100_000

// entityCache holds the entities decided on most recently. It holds at most max of them
// after trim, which the commit loop calls between batches: it evicts the least recently
// used ones. Within a batch nothing is evicted, so a command always sees the entity as the
// commands before it in the batch left it; between batches memory and the state log agree
// (a batch either committed or was undone), so an evicted entity is loaded again from the
// state log as it was. A pinned entity (with a pending timer, or one its domain's
// aggregate.Pinner keeps) is never evicted and not counted in max. Owned by the commit loop.
type entityCache[S any] struct {
	max    int
	items  map[string]*cached[S]
	ring   cached[S] // sentinel: ring.next is the most recently used, ring.prev the least
	pinned int       // items held outside the ring
}

type cached[S any] struct {
	entity[S]
	stream     string
	pinned     bool // outside the ring: never evicted
	prev, next *cached[S]
}

func newEntityCache[S any](max int) *entityCache[S] {
	c := &entityCache[S]{max: max, items: make(map[string]*cached[S])}
	c.ring.prev, c.ring.next = &c.ring, &c.ring
	return c
}

// get returns the entity of stream and marks it used.
func (c *entityCache[S]) get(stream string) (*entity[S], bool) {
	it, ok := c.items[stream]
	if !ok {
		return nil, false
	}
	if !it.pinned {
		c.front(it)
	}
	return &it.entity, true
}

// peek returns the entity of stream (nil if not held) without marking it used.
func (c *entityCache[S]) peek(stream string) *entity[S] {
	if it, ok := c.items[stream]; ok {
		return &it.entity
	}
	return nil
}

// put sets the entity of stream to *e, marks it used and returns the held entity.
func (c *entityCache[S]) put(stream string, e *entity[S]) *entity[S] {
	it, ok := c.items[stream]
	if ok {
		if !it.pinned {
			c.front(it)
		}
	} else {
		it = &cached[S]{stream: stream}
		c.link(it)
		c.items[stream] = it
	}
	it.entity = *e
	return &it.entity
}

// remove forgets the entity of stream.
func (c *entityCache[S]) remove(stream string) {
	if it, ok := c.items[stream]; ok {
		if it.pinned {
			c.pinned--
		} else {
			c.unlink(it)
		}
		delete(c.items, stream)
	}
}

// pin keeps the held entity of stream from eviction (on) or lets it be evicted again.
func (c *entityCache[S]) pin(stream string, on bool) {
	it, ok := c.items[stream]
	if !ok || it.pinned == on {
		return
	}
	if on {
		c.unlink(it)
		c.pinned++
	} else {
		c.link(it)
		c.pinned--
	}
	it.pinned = on
}

// trim evicts the least recently used entities beyond max, pinned ones aside, and
// returns how many.
func (c *entityCache[S]) trim() int {
	n := 0
	for len(c.items)-c.pinned > c.max {
		it := c.ring.prev
		c.unlink(it)
		delete(c.items, it.stream)
		n++
	}
	return n
}

func (c *entityCache[S]) len() int { return len(c.items) }

func (c *entityCache[S]) front(it *cached[S]) {
	if c.ring.next == it {
		return
	}
	c.unlink(it)
	c.link(it)
}

// link puts the detached it first.
func (c *entityCache[S]) link(it *cached[S]) {
	it.prev, it.next = &c.ring, c.ring.next
	c.ring.next.prev = it
	c.ring.next = it
}

func (c *entityCache[S]) unlink(it *cached[S]) {
	it.prev.next, it.next.prev = it.next, it.prev
	it.prev, it.next = nil, nil
}
