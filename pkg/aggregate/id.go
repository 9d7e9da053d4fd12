package aggregate

// IDSyntax is implemented by a domain whose entity ids are not KSUIDs (the default): the
// server answers 400 to an id it refuses, on every route of the domain (state, events,
// commands), and the writer refuses it too.
//
// Whatever the syntax, an id is encoded where it names a stream, a Redis key or a NATS
// subject (pkg/event.Stream), so two ids never collide: a lock named "x.events" is not
// lock "x"'s events.
type IDSyntax interface {
	// CheckID returns nil if id names an entity of the domain, else a *failure.Error of
	// kind Invalid (type invalid_id) saying what an id looks like.
	CheckID(id string) error
}
