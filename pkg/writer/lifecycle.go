package writer

import (
	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// admitted applies the optional rules of pkg/aggregate/lifecycle.go to command p on entity
// e, before its expected version is compared: a command to an entity that ended is
// not_found (recorded as refused, as a version mismatch is), and a command without an
// expected version, in a domain that requires one, is refused unrecorded (428). It
// reports whether p goes on to be decided.
func (w *Writer[S]) admitted(p *pending, e *entity[S]) bool {
	if e.version > 0 && aggregate.Ended(w.domain, e.state) {
		w.reject(p, failure.Newf(failure.NotFound, "not_found", "%s %s has ended (at version %d)", w.name, p.req.Entity, e.version))
		return false
	}
	if p.req.ExpectedVersion == nil && aggregate.RequiresVersion(w.domain) {
		p.row, p.reply = nil, errorReply(failure.Newf(failure.PreconditionRequired, "if_match_required",
			`every %s command needs an If-Match header: the version it was decided against ("0" for a new %s)`, w.name, w.name))
		return false
	}
	return true
}
