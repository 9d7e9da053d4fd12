package queue

import (
	"time"

	"uneventful.dev/uneventful/pkg/failure"
)

// Subjects of the queue protocol. Queue names are unique across connected domains, so
// a queue's subject reaches its owner whichever domain the sender is in.
const (
	subjectPrefix = "uneventful.queue."
	// ListSubject is answered by every owner with its domain's queues (scatter-gather).
	ListSubject = "uneventful.queues.list"
)

// Subject is the NATS subject a queue's owner serves it on.
func Subject(queue string) string { return subjectPrefix + queue }

// Operations.
const (
	opEnqueue  = "enqueue"
	opDequeue  = "dequeue"
	opCommit   = "commit"
	opRollback = "rollback"
	opBrowse   = "browse"
	opRestore  = "restore"
	opClear    = "clear"
	opRemove   = "remove"
)

type request struct {
	Op         string        `json:"op"`
	Message    *Message      `json:"message,omitempty"`      // enqueue
	Delay      time.Duration `json:"delay,omitempty"`        // enqueue
	ID         string        `json:"id,omitempty"`           // dequeue by id; commit, rollback
	Properties string        `json:"properties,omitempty"`   // dequeue by properties
	Wait       time.Duration `json:"wait,omitempty"`         // dequeue: block up to this long
	LeaseFor   time.Duration `json:"lease_for,omitempty"`    // dequeue: rolled back if not committed by then
	Lease      string        `json:"lease,omitempty"`        // commit, rollback
	IDs        []string      `json:"ids,omitempty"`          // remove
	Causation  string        `json:"causation_id,omitempty"` // enqueue: the id of the event that caused it
}

type response struct {
	Error    *failure.Error `json:"error,omitempty"`
	ID       string         `json:"id,omitempty"`
	Message  *Dequeued      `json:"message,omitempty"`
	Messages []Browsed      `json:"messages,omitempty"`
	Count    int            `json:"count,omitempty"`
	Queues   []QueueInfo    `json:"queues,omitempty"`
}

// Browsed is a message seen without consuming it, with its state.
type Browsed struct {
	Message
	State string `json:"state"`
}

// DefaultLease is how long a dequeued message stays uncommitted before the owner rolls
// it back on its own (its dequeuer is presumed dead).
const DefaultLease = 30 * time.Second
