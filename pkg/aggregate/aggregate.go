// Package aggregate is the contract between a pure domain and the uneventful runtime.
// A domain implements Domain; it imports nothing but this package, pkg/failure and the
// standard library.
package aggregate

import (
	"encoding/json"
	"time"
)

// Command is a request to change one entity.
type Command struct {
	Type string          // e.g. "credit"
	Data json.RawMessage // the command's JSON body, already validated by ParseCommand
	// Time is the writer's decision time, set by the writer just before Decide (UTC,
	// never zero there); a client cannot set it, and ParseCommand sees it zero. It is the
	// "now" a domain may use in Decide (a lease's expiry = cmd.Time + ttl): Decide stays
	// pure, and the events record whatever it derived from it. For a command fired by a
	// timer it is the firing time, at or after the timer's At.
	Time time.Time
}

// Event is a fact produced by an accepted command.
type Event struct {
	Type string          // e.g. "credited"
	Data json.RawMessage // JSON
}

// Domain decides commands and evolves state for the entities of one domain.
// S is the entity state; its zero value is an entity never written. S must marshal to a
// JSON object: it is stored in the state log and the read model.
// Implementations must be pure and safe for concurrent use.
type Domain[S any] interface {
	// Name is the domain's name, e.g. "wallet"; entity streams are "<name>.<id>".
	Name() string
	// ParseCommand validates a command from outside (HTTP body or NATS message) and
	// returns it in canonical form, or a *failure.Error of kind Invalid.
	ParseCommand(typ string, body []byte) (Command, error)
	// Decide returns the events cmd produces on state, or a *failure.Error (Rejected or
	// Invalid). cmd is always a command returned by ParseCommand. version is the entity's
	// current version (0 if never written).
	Decide(state S, version int64, cmd Command) ([]Event, error)
	// Evolve applies one event to state.
	Evolve(state S, e Event) (S, error)
}
