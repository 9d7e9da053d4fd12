package queue

import "time"

// Event types of a domain's queue stream "queue.<domain>".
const (
	Enqueued     = "enqueued"
	DequeuedType = "dequeued"
	Committed    = "committed"
	RolledBack   = "rolled_back"
	MovedToError = "moved_to_error"
	Restored     = "restored"
	Removed      = "removed"
)

// change is the data of one queue event. Which fields are set depends on the type.
type change struct {
	Type        string    `json:"-"`
	Queue       string    `json:"queue"`
	Message     *Message  `json:"message,omitempty"`     // enqueued
	ID          string    `json:"id,omitempty"`          // the message
	Lease       string    `json:"lease,omitempty"`       // dequeued
	LeaseUntil  time.Time `json:"lease_until,omitzero"`  // dequeued
	Redelivered int       `json:"redelivered,omitempty"` // rolled_back
	Available   time.Time `json:"available,omitzero"`    // rolled_back, moved_to_error, restored
	To          string    `json:"to,omitempty"`          // moved_to_error, restored: the queue it went to
	Reason      string    `json:"reason,omitempty"`      // rolled_back: "rollback" or "lease expired"; removed: "clear" or "remove"
	Time        time.Time `json:"time"`

	// The envelope's ids, not the event's data: its own id, the correlation id of its
	// message and the id of the event that caused it (the message's previous event; for
	// an enqueue, the enqueuer's cause).
	event, correlation, causation string
}
