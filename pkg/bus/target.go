package bus

import (
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// Target prefixes of what is not an entity.
const (
	ServicePrefix = "service." // service.<name>: a service served with forward.Serve
	QueuePrefix   = "queue."   // queue.<name>: a queue; the command is the operation
)

type targetKind int

const (
	targetEntity targetKind = iota
	targetService
	targetQueue
)

type target struct {
	kind   targetKind
	domain string // of an entity
	name   string // the entity id, service or queue name
}

// ErrInvalidTarget is returned, before anything is sent, for a target that is none of
// "<domain>.<id>", "service.<name>", "queue.<name>".
var ErrInvalidTarget = failure.New(failure.Invalid, "invalid_target", `a target is "<domain>.<id>", "service.<name>" or "queue.<name>"`)

func parseTarget(s string) (target, error) {
	prefix, name, ok := strings.Cut(s, ".")
	if !ok || prefix == "" || name == "" || strings.ContainsAny(s, " \t\r\n*>") {
		return target{}, ErrInvalidTarget.Withf("target %q: want <domain>.<id>, service.<name> or queue.<name>", s)
	}
	switch prefix + "." {
	case ServicePrefix:
		return target{kind: targetService, name: name}, nil
	case QueuePrefix:
		return target{kind: targetQueue, name: name}, nil
	}
	if strings.Contains(name, ".") {
		return target{}, ErrInvalidTarget.Withf("target %q: an entity id has no '.'", s)
	}
	return target{kind: targetEntity, domain: prefix, name: name}, nil
}
