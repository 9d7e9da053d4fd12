// Package event defines the envelope every event travels in: in the event log, on
// JetStream and in the history; the one decoder of stored and published envelopes
// (Decode, DecodeArray, DecodeLog); and Upcasters, which bring events stored in an older
// version of their type's format to the current one.
package event

import (
	"encoding/json"
	"time"

	"github.com/segmentio/ksuid"
)

// Envelope is one event with its identity and metadata.
type Envelope struct {
	ID            string          `json:"id"`      // KSUID, unique; the deduplication key everywhere
	Stream        string          `json:"stream"`  // "<domain>.<entity id>", e.g. "wallet.28skwt5B8zTrs6AqBWrSgCHLcRL"
	Version       int64           `json:"version"` // per-stream version, 1, 2, ...
	Type          string          `json:"type"`    // e.g. "credited"
	Data          json.RawMessage `json:"data"`
	CommandID     string          `json:"command_id"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	CausationID   string          `json:"causation_id,omitempty"`
	Time          time.Time       `json:"time"`

	// Schema is the version of Data's format (Upcasters); 0, absent, is version 1.
	Schema int `json:"schema,omitempty"`

	// Fencing holds the fencing tokens the command accepted, by lock name
	// (Fencing-Token header): the entity keeps the highest per lock (docs/architecture.md).
	Fencing map[string]int64 `json:"fencing,omitempty"`
}

// NewID returns a new KSUID string.
func NewID() string { return ksuid.New().String() }

// Stream returns the stream name of an entity: "<domain>.<id>", the id encoded by
// EncodeID (the identity for a KSUID).
func Stream(domain, id string) string { return domain + "." + EncodeID(id) }

// Subject returns the JetStream subject an event of stream is published on.
func Subject(stream string) string { return "events." + stream }

// StreamName is the JetStream stream holding every domain's events.
const StreamName = "EVENTS"

// StreamSubjects are the subjects of StreamName.
var StreamSubjects = []string{"events.>"}
