package lock

import (
	"encoding/json"
	"slices"
	"time"
)

// State is a lock's state, as GET /lock/{name} shows it. The zero value is a lock never
// taken.
type State struct {
	Holder    *string    `json:"holder"`     // null when free
	Token     *int64     `json:"token"`      // the holder's fencing token
	Expires   *time.Time `json:"expires"`    // the end of the holder's lease
	Waiters   []Waiter   `json:"waiters"`    // FIFO
	LastToken int64      `json:"last_token"` // the last token ever issued (0: none)
}

// MarshalJSON writes the state with waiters as a list, also for the zero value (a lock
// never taken, shown free: aggregate.Implicit).
func (s State) MarshalJSON() ([]byte, error) {
	type plain State // without this method
	if s.Waiters == nil {
		s.Waiters = []Waiter{}
	}
	return json.Marshal(plain(s))
}

// Waiter is one acquire waiting its turn.
type Waiter struct {
	Holder string    `json:"holder"`
	Wait   int64     `json:"wait"`  // the version of its waiting event: names the wait
	TTL    string    `json:"ttl"`   // the lease it asks for
	Until  time.Time `json:"until"` // its wait ends then
}

// held reports whether the lock has a holder.
func (s State) held() bool { return s.Holder != nil }

// waiter returns the index of the waiter of wait, or -1.
func (s State) waiter(wait int64) int {
	return slices.IndexFunc(s.Waiters, func(w Waiter) bool { return w.Wait == wait })
}
