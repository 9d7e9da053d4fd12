package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// Mount adds the HTTP API of notifications to r (a session server's router):
//
//	GET  /session/{id}/notifications  the session's notifications as Server-Sent Events:
//	                                  event: <type>, data: the Notification as JSON; no
//	                                  id: and no resume (they are ephemeral)
//	POST /session/{id}/notify         {"namespace","type","payload"} -> {"id","sessions":1}
//	POST /notify                      {"namespace","type","constraint","payload"}
//	                                  -> {"id","sessions":<how many matched>}
//
// Bad input is a C3 error before anything is sent: 400 (a field missing, unknown or of
// the wrong type, a bad id, namespace, type or constraint), 413 (a body over 1 MiB or a
// payload over MaxPayload); 404 for a destroyed session; 503 without NATS or Redis.
func (n *Notifier) Mount(r chi.Router) {
	r.Get("/"+Domain+"/{id}/notifications", n.stream)
	r.Post("/"+Domain+"/{id}/notify", n.notifyOne)
	r.Post("/notify", n.notifyMany)
}

// request is the body of both POSTs; Constraint only in POST /notify.
type request struct {
	Namespace  *string         `json:"namespace"`
	Type       *string         `json:"type"`
	Payload    json.RawMessage `json:"payload"`
	Constraint json.RawMessage `json:"constraint"`
}

func (n *Notifier) notifyOne(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := CheckID(id); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	req, err := readRequest(w, r, false)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	rec, err := n.Notify(r.Context(), id, *req.Namespace, *req.Type, req.Payload)
	respond(w, rec, err)
}

func (n *Notifier) notifyMany(w http.ResponseWriter, r *http.Request) {
	req, err := readRequest(w, r, true)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	c, err := ParseConstraint(req.Constraint)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	rec, err := n.NotifyMany(r.Context(), *req.Namespace, *req.Type, c, req.Payload)
	respond(w, rec, err)
}

func respond(w http.ResponseWriter, rec Receipt, err error) {
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, rec)
}

var errBody = failure.New(failure.Invalid, "invalid_body", "invalid body")

// readRequest reads a POST's body (any Content-Type, at most httpapi.MaxBody) and checks
// its fields are there: namespace, type, and constraint where many.
func readRequest(w http.ResponseWriter, r *http.Request, many bool) (request, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpapi.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return request{}, failure.Newf(failure.TooLarge, "body_too_large", "body must be at most %d bytes", httpapi.MaxBody)
	}
	if err != nil {
		return request{}, errBody.With("could not read the body: " + err.Error())
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return request{}, errBody.With("want a JSON object {\"namespace\", \"type\", \"payload\"" + map[bool]string{true: `, "constraint"`}[many] + "}: " + jsonProblem(err))
	}
	if dec.More() {
		return request{}, errBody.With("more than one JSON value in the body")
	}
	switch {
	case req.Namespace == nil:
		return request{}, errBody.With(`"namespace" is missing`)
	case req.Type == nil:
		return request{}, errBody.With(`"type" is missing`)
	case many && req.Constraint == nil:
		return request{}, errBody.With(`"constraint" is missing (use {"op": "none"} for every session)`)
	case !many && req.Constraint != nil:
		return request{}, errBody.With(`"constraint" is for POST /notify: this notification goes to one session`)
	}
	if req.Payload == nil {
		req.Payload = json.RawMessage("null")
	}
	return req, nil
}
