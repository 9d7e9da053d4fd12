// Package httpapi holds the HTTP pieces every uneventful server shares: JSON responses,
// the one mapping of failure kinds to HTTP status, body limits, health endpoints, and the
// generic entity API (read state, read events, send commands).
package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"uneventful.dev/uneventful/pkg/failure"
)

// Status returns the HTTP status of a failure kind. This is the one place kinds map to
// HTTP statuses.
func Status(k failure.Kind) int {
	switch k {
	case failure.Invalid:
		return http.StatusBadRequest
	case failure.NotFound:
		return http.StatusNotFound
	case failure.Conflict:
		return http.StatusConflict
	case failure.Rejected:
		return http.StatusUnprocessableEntity
	case failure.PreconditionFailed:
		return http.StatusPreconditionFailed
	case failure.PreconditionRequired:
		return http.StatusPreconditionRequired
	case failure.TooLarge:
		return http.StatusRequestEntityTooLarge
	case failure.Overloaded, failure.Unavailable:
		return http.StatusServiceUnavailable
	case failure.Timeout:
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// WriteError writes err as {"error": {"type": ..., "message": ...}} with its status. An
// internal error (500) is answered with a generic message and logged once by Edge with
// the request's correlation id: its text never reaches the client.
func WriteError(w http.ResponseWriter, err error) {
	fe := failure.From(err)
	status := Status(fe.Kind)
	if status == http.StatusInternalServerError {
		fe = concealed(w, err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	b, _ := json.Marshal(errorBody{Error: errorDetail{Type: fe.Type, Message: fe.Message}})
	WriteRaw(w, status, b)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, failure.New(failure.Internal, "encode_response", err.Error()))
		return
	}
	WriteRaw(w, status, b)
}

// WriteRaw writes body, already JSON, with status.
func WriteRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(body)         //nolint:errcheck // the client went away
	w.Write([]byte{'\n'}) //nolint:errcheck // newline: nicer in a terminal
}

// NotFound and MethodNotAllowed answer unknown routes in JSON.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, failure.Newf(failure.NotFound, "no_route", "no route for %s %s", r.Method, r.URL.Path))
}

// MethodNotAllowed answers a known route called with the wrong method.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	fe := failure.Newf(failure.Invalid, "method_not_allowed", "%s is not allowed on %s", r.Method, r.URL.Path)
	b, _ := json.Marshal(errorBody{Error: errorDetail{Type: fe.Type, Message: fe.Message}})
	WriteRaw(w, http.StatusMethodNotAllowed, b)
}
