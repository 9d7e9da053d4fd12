package queue

import (
	"errors"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/failure"
)

// The errors queue operations return. Compare with errors.Is.
var (
	ErrNoMessage     = failure.New(failure.NotFound, "no_message", "no message available")
	ErrQueueNotFound = failure.New(failure.NotFound, "queue_not_found", "no domain owns this queue")
	ErrDisabled      = failure.New(failure.Rejected, "disabled", "the operation is disabled on this queue")
	ErrLeaseLost     = failure.New(failure.Conflict, "lease_lost", "the message is no longer dequeued under this lease")
	ErrInvalid       = failure.New(failure.Invalid, "invalid", "invalid queue request")
)

var known = []*failure.Error{ErrNoMessage, ErrQueueNotFound, ErrDisabled, ErrLeaseLost, ErrInvalid}

// fromWire maps an error received in a reply back to its sentinel, keeping the message.
func fromWire(e *failure.Error) error {
	for _, k := range known {
		if k.Type == e.Type {
			return &wireError{sentinel: k, msg: e.Message}
		}
	}
	return e
}

type wireError struct {
	sentinel *failure.Error
	msg      string
}

func (w *wireError) Error() string { return w.sentinel.Type + ": " + w.msg }
func (w *wireError) Unwrap() error { return w.sentinel }

func withMessage(sentinel *failure.Error, msg string) *failure.Error {
	return failure.New(sentinel.Kind, sentinel.Type, msg)
}

func transportError(err error) error {
	if errors.Is(err, nats.ErrNoResponders) {
		return ErrQueueNotFound
	}
	return failure.New(failure.Unavailable, "unavailable", err.Error())
}
