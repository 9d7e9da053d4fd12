package writer

import "uneventful.dev/uneventful/pkg/aggregate"

// checkID refuses an entity id the domain's syntax (aggregate.IDSyntax) refuses; a domain
// without one gets validEntity's check (a KSUID passes it).
func (w *Writer[S]) checkID(id string) error {
	if s, ok := any(w.domain).(aggregate.IDSyntax); ok {
		return s.CheckID(id)
	}
	return validEntity(id)
}
