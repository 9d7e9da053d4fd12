// Package command is the wire protocol between a domain's servers and its writers:
// the request and reply a server sends and gets over NATS request/reply, the subjects
// they travel on, and the client that batches them on lanes. It holds no state of its
// own and links no storage, so the read side can send commands without linking the
// commit loop (package writer).
package command

import (
	"encoding/json"
	"hash/fnv"
	"strconv"

	"uneventful.dev/uneventful/pkg/failure"
)

// DefaultPartitions is the number of partitions entities hash to.
const DefaultPartitions = 16

// Request kinds.
const (
	KindCommand = "command" // decide and append
	KindLoad    = "load"    // return the entity's state and restore its read model
)

// Request is what a server sends a writer over NATS request/reply.
type Request struct {
	Kind            string          `json:"kind"`
	Entity          string          `json:"entity"`
	CommandID       string          `json:"command_id,omitempty"`
	Command         string          `json:"command,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	IdempotencyKey  string          `json:"idempotency_key,omitempty"`
	ExpectedVersion *int64          `json:"expected_version,omitempty"`
	CorrelationID   string          `json:"correlation_id,omitempty"`
	Deadline        int64           `json:"deadline,omitempty"` // unix nanoseconds; 0 = none
	// Fencing holds fencing tokens by lock name (the Fencing-Token header): the writer
	// refuses the command if the entity accepted a higher token of that lock (see Fence).
	Fencing map[string]int64 `json:"fencing,omitempty"`
}

// Reply is a writer's answer: the entity's state document and version, or an error.
type Reply struct {
	Version int64           `json:"version,omitempty"`
	State   json.RawMessage `json:"state,omitempty"`
	Error   *failure.Error  `json:"error,omitempty"`
}

// Frame returns the JSON array of parts, each already JSON: the framing of a
// message of requests and of its replies.
func Frame(parts [][]byte) []byte {
	n := 2 + len(parts)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	return append(b, ']')
}

// Partition returns the partition of entity id among n partitions.
func Partition(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

// Subject returns the NATS subject a request of kind for entity id is sent on.
func Subject(kind, domain, id string, partitions int) string {
	return SubjectOf(kind, domain, strconv.Itoa(Partition(id, partitions)))
}

// SubjectOf returns the subject of requests of kind to domain whose last token is last: a
// partition number, AllPartitions, or a wildcard for subscribing.
func SubjectOf(kind, domain, last string) string {
	return kind + "." + domain + "." + last
}
