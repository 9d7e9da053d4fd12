// Package session is rinq's versioned attribute tables as a domain: a session holds
// string attributes by namespace and key, updated atomically within one namespace, that
// can be frozen, and it ends when it is destroyed. Every command names the revision
// (version) it was decided against. It is pure: no I/O, no infrastructure imports.
package session

import (
	"encoding/json"
	"slices"
	"strings"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// Command and event types.
const (
	CmdUpdate      = "update"
	CmdClear       = "clear"
	CmdDestroy     = "destroy"
	EventUpdated   = "updated"
	EventCleared   = "cleared"
	EventDestroyed = "destroyed"
)

// updated is the data of an updated event: the new attribute of each key the update
// changed ({"value":"","frozen":false}: removed).
type updated struct {
	Namespace  string               `json:"namespace"`
	Attributes map[string]Attribute `json:"attributes"`
}

// Domain implements aggregate.Domain[State], aggregate.VersionRequired and
// aggregate.Ending[State].
type Domain struct{}

var (
	_ aggregate.Domain[State]   = Domain{}
	_ aggregate.VersionRequired = Domain{}
	_ aggregate.Ending[State]   = Domain{}
)

// Name returns "session".
func (Domain) Name() string { return "session" }

// Commands lists the session's commands: POST /session/{id}/update, /clear and /destroy.
func (Domain) Commands() []string { return []string{CmdUpdate, CmdClear, CmdDestroy} }

// Views names no more views than GET /session/{id} and /session/{id}/events.
func (Domain) Views() (state, events []string) { return nil, nil }

// RequiresVersion: every command needs If-Match (rinq's updates at the latest revision).
func (Domain) RequiresVersion() bool { return true }

// Ended reports whether the session was destroyed.
func (Domain) Ended(s State) bool { return s.Destroyed }

// ParseCommand validates an update, clear or destroy body (README, "Sessions").
func (Domain) ParseCommand(typ string, body []byte) (aggregate.Command, error) {
	switch typ {
	case CmdUpdate:
		return parseUpdate(body)
	case CmdClear:
		return parseClear(body)
	case CmdDestroy:
		return parseDestroy(body)
	}
	return aggregate.Command{}, failure.Newf(failure.Invalid, "unknown_command", "unknown session command %q", typ)
}

// Decide updates, clears or destroys the session. A frozen attribute never changes (422
// frozen_attribute), a namespace holding a frozen non-empty one is never cleared, and a
// session holds at most MaxAttributes attributes (400). Destroying a session never
// written, or any command on a destroyed one, is not_found.
func (Domain) Decide(s State, version int64, cmd aggregate.Command) ([]aggregate.Event, error) {
	if s.Destroyed || version == 0 && cmd.Type == CmdDestroy {
		return nil, failure.New(failure.NotFound, "not_found", "no such session")
	}
	switch cmd.Type {
	case CmdUpdate:
		var u update
		if json.Unmarshal(cmd.Data, &u) != nil || u.Namespace == "" {
			return nil, notParsed()
		}
		return decideUpdate(s, u)
	case CmdClear:
		var c clear
		if json.Unmarshal(cmd.Data, &c) != nil || c.Namespace == "" {
			return nil, notParsed()
		}
		var frozen []string
		for k, a := range s.Attributes[c.Namespace] {
			if a.Frozen && a.Value != "" {
				frozen = append(frozen, k)
			}
		}
		if len(frozen) > 0 {
			return nil, frozenError(c.Namespace, frozen)
		}
		return event(EventCleared, c)
	case CmdDestroy:
		return event(EventDestroyed, struct{}{})
	}
	return nil, failure.Newf(failure.Invalid, "unknown_command", "unknown session command %q", cmd.Type)
}

func decideUpdate(s State, u update) ([]aggregate.Event, error) {
	ns := s.Attributes[u.Namespace]
	changes := map[string]Attribute{}
	var frozen []string
	set := func(k string, next Attribute) {
		old := ns[k]
		switch {
		case next == old:
		case old.Frozen:
			frozen = append(frozen, k)
		default:
			changes[k] = next
		}
	}
	for k, v := range u.Attributes {
		set(k, Attribute{Value: v, Frozen: slices.Contains(u.Freeze, k)})
	}
	for _, k := range u.Freeze {
		if _, ok := u.Attributes[k]; !ok {
			set(k, Attribute{Value: ns[k].Value, Frozen: true})
		}
	}
	if len(frozen) > 0 {
		return nil, frozenError(u.Namespace, frozen)
	}
	n := s.count()
	for k, a := range changes {
		_, had := ns[k]
		switch {
		case a.exists() && !had:
			n++
		case !a.exists() && had:
			n--
		}
	}
	if n > MaxAttributes {
		return nil, failure.Newf(failure.Invalid, "too_many_attributes", "a session holds at most %d attributes; this update would make %d", MaxAttributes, n)
	}
	return event(EventUpdated, updated{Namespace: u.Namespace, Attributes: changes})
}

// Evolve applies updated, cleared or destroyed to the state.
func (Domain) Evolve(s State, e aggregate.Event) (State, error) {
	corrupt := func(err error) (State, error) {
		return s, failure.Newf(failure.Internal, "corrupt_event", "session event %s: %v", e.Type, err)
	}
	switch e.Type {
	case EventUpdated:
		var u updated
		if err := json.Unmarshal(e.Data, &u); err != nil {
			return corrupt(err)
		}
		ns := s.namespace(u.Namespace)
		for k, a := range u.Attributes {
			if a.exists() {
				ns[k] = a
			} else {
				delete(ns, k)
			}
		}
		s.tidy(u.Namespace)
	case EventCleared:
		var c clear
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return corrupt(err)
		}
		ns := s.namespace(c.Namespace)
		for k, a := range ns {
			if !a.Frozen {
				delete(ns, k)
			}
		}
		s.tidy(c.Namespace)
	case EventDestroyed:
		s = State{Destroyed: true}
	default:
		return s, failure.Newf(failure.Internal, "unknown_event", "unknown session event %q", e.Type)
	}
	return s, nil
}

// namespace returns the attributes of ns, a copy the caller may change: a state is a
// value, and the one Evolve was given must stay as it was.
func (s *State) namespace(ns string) Namespace {
	attrs := make(map[string]Namespace, len(s.Attributes)+1)
	for k, v := range s.Attributes {
		attrs[k] = v
	}
	cp := make(Namespace, len(attrs[ns])+1)
	for k, v := range attrs[ns] {
		cp[k] = v
	}
	attrs[ns] = cp
	s.Attributes = attrs
	return cp
}

// tidy drops namespace ns if it holds no attribute.
func (s *State) tidy(ns string) {
	if len(s.Attributes[ns]) == 0 {
		delete(s.Attributes, ns)
	}
}

func event(typ string, data any) ([]aggregate.Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, failure.New(failure.Internal, "encode_event", err.Error())
	}
	return []aggregate.Event{{Type: typ, Data: b}}, nil
}

func frozenError(ns string, keys []string) error {
	slices.Sort(keys)
	return failure.Newf(failure.Rejected, "frozen_attribute", "namespace %s: frozen attribute(s) %s cannot change", ns, strings.Join(keys, ", "))
}

func notParsed() error {
	return failure.New(failure.Invalid, "invalid_command", "the command was not made by ParseCommand")
}
