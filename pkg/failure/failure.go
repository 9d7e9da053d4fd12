// Package failure is the one error vocabulary of uneventful: every error that crosses a
// process boundary (HTTP, NATS) is a *Error with a Kind, mapped to a transport status in
// exactly one place per transport.
package failure

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller should do about it.
type Kind string

// The kinds. Each maps to one HTTP status (see pkg/httpapi).
const (
	Invalid            Kind = "invalid"             // the request is malformed: fix it
	NotFound           Kind = "not_found"           // the entity does not exist
	Conflict           Kind = "conflict"            // e.g. an idempotency key reused for another request
	Rejected           Kind = "rejected"            // the domain refused the command (e.g. insufficient_funds)
	PreconditionFailed Kind = "precondition_failed" // If-Match version mismatch
	TooLarge           Kind = "too_large"           // request body over the limit
	Overloaded         Kind = "overloaded"          // shed: retry later
	Unavailable        Kind = "unavailable"         // a dependency is down: retry later
	Timeout            Kind = "timeout"             // deadline passed, outcome unknown: retry with the same key
	Internal           Kind = "internal"            // a bug or an unexpected failure
)

// Error is an error with a kind, a machine-readable type and a human message.
type Error struct {
	Kind    Kind   `json:"kind"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// New returns an error of the given kind; typ is the machine-readable type
// (e.g. "insufficient_funds"), msg the human message.
func New(kind Kind, typ, msg string) *Error { return &Error{Kind: kind, Type: typ, Message: msg} }

// Newf is New with a formatted message.
func Newf(kind Kind, typ, format string, args ...any) *Error {
	return New(kind, typ, fmt.Sprintf(format, args...))
}

// From returns err as a *Error, wrapping unknown errors as Internal.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return New(Internal, "internal", err.Error())
}

// KindOf returns the kind of err, Internal for errors that are not a *Error.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	return From(err).Kind
}
