package aggregate

import "encoding/json"

// Upcaster turns the data of an event of type Type stored in schema version From into
// the data of version From+1. It must be pure, safe for concurrent use, and accept any
// data ever stored as version From (a log written before versions existed holds version
// 1). It returns an error only for data no version ever held.
type Upcaster struct {
	Type string
	From int // 1 or more
	Up   func(data json.RawMessage) (json.RawMessage, error)
}

// Versioned is implemented by a Domain whose events changed format. The current version
// of an event type is one past the highest From of its upcasters (1 without any): the
// runtime stamps it on every new event and upcasts older events to it, step by step,
// before Evolve or any other reader sees them. A type's upcasters must cover every
// version from 1 up, once each.
type Versioned interface {
	Upcasters() []Upcaster
}
