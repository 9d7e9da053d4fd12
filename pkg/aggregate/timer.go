package aggregate

import "time"

// Timer is a command an entity schedules for itself (Axon calls it a deadline): at At the
// writer runs Command on the entity through the same Decide path as a client's command,
// with Command.Time set to the firing time.
type Timer struct {
	// Key names the timer within its entity, e.g. "expire" or "wait:w2". One entity has
	// at most one pending timer per key.
	Key string
	// At is when the timer fires (the writer fires it within about 100 ms of At, or right
	// after its start if At passed while it was down).
	At time.Time
	// Command is run at At. It does not go through ParseCommand: it must already be in
	// canonical form, and its Type may be one that ParseCommand refuses (so that no
	// client can send it).
	Command Command
}

// Scheduler is implemented by a Domain whose entities schedule timers. Timers returns the
// timers pending for an entity in state S. They are derived from the state alone, so a
// rebuild from events gives them back; the writer asks after each commit and replaces the
// entity's stored set, in the same SQLite transaction as the events:
//
//   - a timer listed with a new At (a renewed lease) supersedes the old one under its Key;
//   - a timer no longer listed (a released lock) is cancelled;
//   - right before running a timer's command the writer checks the entity's state still
//     lists it (same Key, At and Command), so a timer superseded or cancelled even by a
//     command decided just before it never fires;
//   - a timer fires once for each (Key, At): after firing, the writer never fires the same
//     Key and At again, even if the state still lists it (say Decide rejected the command
//     or produced no event). A timer that fired and whose state moved on is simply gone.
//
// Timers must be pure and safe for concurrent use, like Decide and Evolve.
type Scheduler[S any] interface {
	Timers(state S) []Timer
}

// Pinner is implemented by a Domain some of whose entities must stay in the writer's
// memory (its entity cache, ENTITY_CACHE) whatever the cache's size, e.g. a lock with
// waiters. An entity with a pending timer is always kept, Pinner or not.
// Pinned must be pure and safe for concurrent use.
type Pinner[S any] interface {
	Pinned(state S) bool
}
