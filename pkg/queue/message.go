// Package queue provides durable, browsable queues owned by a domain and kept as an
// event stream on JetStream: every operation (enqueued, dequeued, committed, rolled back,
// moved to error, restored, removed) is an event on the EVENTS stream, so the history
// writer records it and the owner rebuilds its queues from it at start.
//
// One Owner per domain holds the domain's queues in memory and serves queue operations
// over NATS request/reply on "uneventful.queue.<name>"; a Client sends them. Queue names
// are unique across connected domains, so a client anywhere finds a queue by name.
package queue

import "time"

// Message is one message in a queue.
type Message struct {
	ID          string    `json:"id"`             // KSUID
	Type        string    `json:"type,omitempty"` // payload type, e.g. "text/plain"
	Payload     []byte    `json:"payload"`
	Properties  string    `json:"properties,omitempty"` // selectable on dequeue
	Reply       string    `json:"reply,omitempty"`      // a queue name
	Available   time.Time `json:"available"`            // not dequeued before this time
	Redelivered int       `json:"redelivered"`
	Time        time.Time `json:"time"` // when it was enqueued (into this queue)
	Dedup       string    `json:"dedup,omitempty"`
	// CorrelationID ties the message, every queue event about it and everything it causes
	// downstream (forwards, service calls, replies, commands) into one work item: the
	// enqueuer's (EnqueueOptions.CorrelationID), else the message id. Set by the owner.
	CorrelationID string `json:"correlation_id,omitempty"`

	lease      string // set while dequeued and not yet committed or rolled back
	leaseUntil time.Time
	event      string // the id of the last queue event about the message: the next one's causation
}

// State is where a message stands: available, delayed (available later) or dequeued
// (uncommitted).
func (m *Message) State(now time.Time) string {
	switch {
	case m.lease != "":
		return "dequeued"
	case m.Available.After(now):
		return "delayed"
	default:
		return "available"
	}
}

// Dequeued is a message taken from a queue: commit or roll it back with its Lease.
type Dequeued struct {
	Message
	Queue string `json:"queue"`
	Lease string `json:"lease"`
	// EventID is the id of the "dequeued" event: the causation id of what the dequeuer
	// does with the message (a forward's enqueue downstream, call, command).
	EventID string `json:"event_id,omitempty"`
}

// QueueInfo is one line of the queue listing.
type QueueInfo struct {
	Name        string    `json:"name"`
	Group       string    `json:"group"` // the owning domain
	RetryCount  int       `json:"rc"`
	RetryDelay  float64   `json:"rd"` // seconds
	Count       int       `json:"count"`
	Size        int64     `json:"size"`
	Enqueued    int64     `json:"eq"`
	Dequeued    int64     `json:"dq"`
	Uncommitted int       `json:"uc"`
	Last        time.Time `json:"last,omitempty"`
}

// Avg is the average message size.
func (q QueueInfo) Avg() int64 {
	if q.Count == 0 {
		return 0
	}
	return q.Size / int64(q.Count)
}

// MessageInfo is one line of a queue's message listing (no payload).
type MessageInfo struct {
	ID          string    `json:"id"`
	State       string    `json:"state"`
	Size        int       `json:"size"`
	Redelivered int       `json:"redelivered"`
	Type        string    `json:"type"`
	Reply       string    `json:"reply"`
	Available   time.Time `json:"available"`
	Time        time.Time `json:"time"`
}
