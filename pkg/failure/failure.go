// Package failure is the one error vocabulary of uneventful: every error that crosses a
// process boundary (HTTP, NATS) is a *Error with a Kind, mapped to a transport status in
// exactly one place per transport.
//
// An error is identified one way, with errors.Is, never by its text:
//
//	errors.Is(err, failure.Unavailable)     // by kind: any unavailable failure
//	errors.Is(err, queue.ErrNoMessage)      // by kind and type: a sentinel *Error
//
// A *Error matches a sentinel *Error of the same Kind and Type whatever their messages,
// so a failure that came back over NATS (decoded into a new value) still matches.
package failure

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller should do about it. A Kind is itself an
// error so that errors.Is(err, kind) tells whether err is a failure of that kind.
type Kind string

func (k Kind) Error() string { return string(k) }

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

// PreconditionRequired: a command without If-Match in a domain that requires one
// (pkg/aggregate, VersionRequired): HTTP 428.
const PreconditionRequired Kind = "precondition_required"

// Error is an error with a kind, a machine-readable type and a human message.
type Error struct {
	Kind    Kind   `json:"kind"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Is reports whether e matches target: a Kind equal to e's kind, or a *Error of the same
// kind and type (messages are not compared). It serves errors.Is.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Kind:
		return e.Kind == t
	case *Error:
		return t != nil && e.Kind == t.Kind && e.Type == t.Type
	}
	return false
}

// New returns an error of the given kind; typ is the machine-readable type
// (e.g. "insufficient_funds"), msg the human message.
func New(kind Kind, typ, msg string) *Error { return &Error{Kind: kind, Type: typ, Message: msg} }

// Newf is New with a formatted message.
func Newf(kind Kind, typ, format string, args ...any) *Error {
	return New(kind, typ, fmt.Sprintf(format, args...))
}

// With returns a copy of sentinel e with message msg: the same error to errors.Is, with
// the particulars of one occurrence.
func (e *Error) With(msg string) *Error { return New(e.Kind, e.Type, msg) }

// Withf is With with a formatted message.
func (e *Error) Withf(format string, args ...any) *Error { return e.With(fmt.Sprintf(format, args...)) }

// From returns err as a *Error, wrapping unknown errors as Internal (type "internal",
// the error's text as message: for logs, never for clients; see pkg/httpapi).
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
