package writer

// keyCache remembers the results of the most recent idempotency keys, so that a retry
// is answered without reading the log. It evicts the oldest key beyond its capacity.
// Owned by the commit loop.
type keyCache struct {
	capacity int
	results  map[string]keyed
	order    []string
	next     int
}

type keyed struct {
	command string
	data    string
	result  []byte
}

func newKeyCache(capacity int) *keyCache {
	return &keyCache{capacity: capacity, results: make(map[string]keyed, capacity)}
}

func (c *keyCache) get(k string) (keyed, bool) {
	v, ok := c.results[k]
	return v, ok
}

func (c *keyCache) put(k string, v keyed) {
	if _, ok := c.results[k]; ok {
		c.results[k] = v
		return
	}
	if len(c.order) < c.capacity {
		c.order = append(c.order, k)
	} else {
		delete(c.results, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % c.capacity
	}
	c.results[k] = v
}
