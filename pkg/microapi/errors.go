package microapi

import (
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// SetError marks a reply failed the micro way: Nats-Service-Error carries
// "<type>: <message>", Nats-Service-Error-Code the HTTP status of the failure's kind
// (httpapi.Status: 422 for a domain refusal, 503 unavailable, ...). This is the one
// place failures map to NATS headers; ErrorFrom reads them back.
func SetError(h nats.Header, fe *failure.Error) {
	h.Set(micro.ErrorHeader, fe.Error())
	h.Set(micro.ErrorCodeHeader, strconv.Itoa(httpapi.Status(fe.Kind)))
}

// ErrorCode returns the Nats-Service-Error-Code of h as a number, 0 if there is none.
func ErrorCode(h nats.Header) int {
	code, _ := strconv.Atoi(h.Get(micro.ErrorCodeHeader))
	return code
}

// KindOf is the failure kind of a Nats-Service-Error-Code: the inverse of httpapi.Status
// where it is one to one; other 4xx codes (and none) are Rejected, other 5xx Internal.
func KindOf(code int) failure.Kind {
	for _, k := range []failure.Kind{failure.Invalid, failure.NotFound, failure.Conflict, failure.Rejected,
		failure.PreconditionFailed, failure.TooLarge, failure.Timeout} {
		if httpapi.Status(k) == code {
			return k
		}
	}
	switch {
	case code == httpapi.Status(failure.Unavailable):
		return failure.Unavailable
	case code >= 500:
		return failure.Internal
	default:
		return failure.Rejected
	}
}

// ErrorFrom returns the failure a reply's micro error headers describe, nil if it has
// none. The description "<type>: <message>" (SetError's) gives both; another text is
// the message of a "service_error".
func ErrorFrom(h nats.Header) *failure.Error {
	desc := h.Get(micro.ErrorHeader)
	if desc == "" {
		return nil
	}
	typ, msg, ok := strings.Cut(desc, ": ")
	if !ok || typ == "" || strings.ContainsAny(typ, " \t") {
		typ, msg = "service_error", desc
	}
	return failure.New(KindOf(ErrorCode(h)), typ, msg)
}
