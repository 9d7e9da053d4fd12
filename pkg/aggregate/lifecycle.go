package aggregate

// Optional behaviours of a domain beyond Domain, found by type assertion: a domain that
// needs none (the wallet) implements none, and the runtime behaves as before.

// VersionRequired is implemented by a domain whose every command must name the version
// it was decided against (HTTP If-Match, command.Request.ExpectedVersion; 0 for an entity
// never written). A command without one is refused (428 if_match_required) and nothing is
// written; a stale one is 412 version_mismatch, as in every domain.
type VersionRequired interface {
	RequiresVersion() bool
}

// Ending is implemented by a domain whose entities can end (a destroyed session). Once
// Ended reports true for an entity's state, every state and command request on it answers
// not_found (before any version check); its events stay readable, and its live event
// stream closes after its last event. An ended entity never changes again.
type Ending[S any] interface {
	Ended(state S) bool
}

// RequiresVersion reports whether domain d requires a version on every command.
func RequiresVersion(d any) bool {
	v, ok := d.(VersionRequired)
	return ok && v.RequiresVersion()
}

// Ended reports whether state is of an entity of d that ended (false for a domain whose
// entities never end).
func Ended[S any](d Domain[S], state S) bool {
	e, ok := d.(Ending[S])
	return ok && e.Ended(state)
}

// CanEnd reports whether d's entities can end (d implements Ending).
func CanEnd[S any](d Domain[S]) bool {
	_, ok := d.(Ending[S])
	return ok
}

// Implicit is implemented by a domain in which every valid id names an entity, in the
// zero value of its state until its first event (a lock never taken is a free lock).
// Reading one never written answers that state at version 0 instead of not_found;
// nothing is stored for it, and its live events wait for its first event as any other's.
type Implicit interface {
	Implicit() bool
}

// IsImplicit reports whether d's entities exist before their first event.
func IsImplicit(d any) bool {
	i, ok := d.(Implicit)
	return ok && i.Implicit()
}
