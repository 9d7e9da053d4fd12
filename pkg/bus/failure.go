package bus

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
)

// Failure is a target's refusal of a command: part of its API, for the caller to handle
// (rinq's failure, as opposed to an error). It wraps the *failure.Error it came as, so
// errors.Is matches the domain's sentinels and failure kinds.
type Failure struct {
	Kind    failure.Kind    // what kind of refusal: rejected, precondition_failed, invalid, ...
	Type    string          // the machine type: insufficient_funds, version_mismatch, ...
	Message string          // for people
	Payload json.RawMessage // what the target sent with it, if anything (a service's reply body)
}

func (f *Failure) Error() string { return f.Type + ": " + f.Message }

// Unwrap returns the failure as a *failure.Error.
func (f *Failure) Unwrap() error { return failure.New(f.Kind, f.Type, f.Message) }

// IsFailure reports whether err is a target's refusal (a *Failure), not an error.
func IsFailure(err error) bool {
	var f *Failure
	return errors.As(err, &f)
}

// FailureType returns the type of a failure ("insufficient_funds"), "" if err is none.
func FailureType(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Type
	}
	return ""
}

// ErrNoResponders matches (errors.Is) a call nobody serves: no writer for the entity's
// domain or partition, no instance of the service, no owner of the queue. NATS answers
// it at once; nothing was delivered, so a retry cannot apply anything twice.
var ErrNoResponders = failure.New(failure.Unavailable, "no_responders", "nobody serves this target")

// refusals are the kinds of failure.Error a target answers with that are its refusals;
// the others (unavailable, overloaded, timeout, internal) are errors.
var refusals = map[failure.Kind]bool{failure.Invalid: true, failure.NotFound: true, failure.Conflict: true,
	failure.Rejected: true, failure.PreconditionFailed: true, failure.TooLarge: true}

// answered turns a failure a target answered with into a *Failure or an error.
func answered(fe *failure.Error, payload []byte) error {
	if refusals[fe.Kind] {
		return &Failure{Kind: fe.Kind, Type: fe.Type, Message: fe.Message, Payload: payload}
	}
	return fe
}

// transport maps an error of sending (nats.go's or command.Client's) to the bus's.
func transport(err error) error {
	var fe *failure.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, command.ErrNoWriter):
		return ErrNoResponders.With(err.Error())
	case errors.Is(err, failure.Timeout), errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return failure.New(failure.Timeout, "timeout", "no reply before the deadline; the outcome is unknown: retry with the same key")
	case errors.Is(err, context.Canceled):
		return failure.New(failure.Timeout, "canceled", "the call was canceled; the outcome is unknown")
	case errors.As(err, &fe):
		return answered(fe, nil)
	default:
		return failure.New(failure.Unavailable, "nats_unavailable", err.Error())
	}
}
