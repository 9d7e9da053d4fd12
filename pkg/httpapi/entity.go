package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
)

// MaxBody is the largest request body accepted (1 MiB); larger ones get 413.
const MaxBody = 1 << 20

// Entities is the HTTP API of one domain's entities:
//
//	GET  /{domain}/{id}            state document, ETag "<version>"; ?revision=N: as of
//	                               version N (lifecycle.go)
//	GET  /{domain}/{id}/{view}     the same, for each of StateViews (e.g. balance)
//	GET  /{domain}/{id}/events     live events, Server-Sent Events from a version (C8; live.go)
//	GET  /{domain}/{id}/{view}     events newest first (?before=<version>&limit=<n>), for
//	                               each of EventViews (e.g. transactions)
//	POST /{domain}/{id}/{command}  send a command (Idempotency-Key, If-Match, Fencing-Token honoured)
type Entities struct {
	Domain     string
	Commands   []string
	StateViews []string
	EventViews []string
	Parse      func(command string, body []byte) (aggregate.Command, error)
	Reader     ReadModel
	Writer     Sender
	Timeout    time.Duration         // a command's deadline; default 5s
	Feed       Feed                  // live events (GET .../events)
	Stored     StoredEvents          // stored events after a version (GET .../events)
	Lifecycle  *Lifecycle            // ended entities, ?revision=N (lifecycle.go); nil: neither
	CheckID    func(id string) error // the domain's id syntax (aggregate.IDSyntax); nil: a KSUID
	Waits      Waiter                // commands whose reply may be a wait (wait.go); nil: none
}

// ReadModel is what Entities reads: state documents and events sets, by state key
// (readmodel/redis.Projection provides it).
type ReadModel interface {
	// Get returns the state document under key; ok is false on a miss.
	Get(ctx context.Context, key string) (doc []byte, ok bool, err error)
	// Events returns up to limit events of the entity under key with version < before
	// (0: the newest), newest first.
	Events(ctx context.Context, key string, before int64, limit int) ([]string, error)
}

// Sender sends a request to the writer of its entity and waits for the reply
// (command.Client provides it).
type Sender interface {
	Send(ctx context.Context, req command.Request) (command.Reply, error)
}

// Mount adds the routes to r.
func (a *Entities) Mount(r chi.Router) {
	base := "/" + a.Domain + "/{id}"
	r.Get(base, a.state)
	for _, v := range a.StateViews {
		r.Get(base+"/"+v, a.state)
	}
	r.Get(base+"/events", a.live)
	for _, v := range a.EventViews {
		r.Get(base+"/"+v, a.events(v))
	}
	for _, c := range a.Commands {
		r.Post(base+"/"+c, a.command(c))
	}
}

// entityID returns the {id} of the route if the domain's syntax takes it (a KSUID by
// default).
func (a *Entities) entityID(r *http.Request) (string, error) {
	id := chi.URLParam(r, "id")
	if a.CheckID != nil {
		if err := a.CheckID(id); err != nil {
			return "", err
		}
		return id, nil
	}
	if _, err := ksuid.Parse(id); err != nil || !base62(id) {
		return "", failure.Newf(failure.Invalid, "invalid_id", "id must be a KSUID (27 characters of 0-9A-Za-z), got %q", truncate(id, 64))
	}
	return id, nil
}

func (a *Entities) state(w http.ResponseWriter, r *http.Request) {
	id, err := a.entityID(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	doc, err := a.stateDocument(r, id)
	if err != nil {
		WriteError(w, err)
		return
	}
	if v := event.DocVersion(doc); v > 0 {
		w.Header().Set("ETag", `"`+strconv.FormatInt(v, 10)+`"`)
	}
	WriteRaw(w, http.StatusOK, doc)
}

// document reads the state document from Redis; on a miss (or Redis down) it asks the
// writer, which answers from its state and restores the read model.
func (a *Entities) document(ctx context.Context, id string) ([]byte, error) {
	key := event.Stream(a.Domain, id)
	doc, ok, err := a.Reader.Get(ctx, key)
	if err == nil && ok {
		return doc, nil
	}
	rep, err := a.Writer.Send(ctx, command.Request{Kind: command.KindLoad, Entity: id})
	if err != nil {
		return nil, err
	}
	return rep.State, nil
}

func (a *Entities) events(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := a.entityID(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		before, err1 := QueryInt(r, "before", 0, 0, 1<<62)
		limit, err2 := QueryInt(r, "limit", 100, 1, 1000)
		if err := errors.Join(err1, err2); err != nil {
			WriteError(w, err)
			return
		}
		if _, err := a.document(r.Context(), id); err != nil { // makes sure the read model is there
			WriteError(w, err)
			return
		}
		list, err := a.Reader.Events(r.Context(), event.Stream(a.Domain, id), before, int(limit))
		if err != nil {
			WriteError(w, failure.New(failure.Unavailable, "read_model_unavailable", err.Error()))
			return
		}
		var b bytes.Buffer
		b.WriteString(`{"id":"` + id + `","` + name + `":[`)
		b.WriteString(strings.Join(list, ","))
		b.WriteString(`]`)
		if len(list) == int(limit) {
			if v := event.DocVersion([]byte(list[len(list)-1])); v > 1 {
				b.WriteString(`,"next_before":` + strconv.FormatInt(v, 10))
			}
		}
		b.WriteString(`}`)
		WriteRaw(w, http.StatusOK, b.Bytes())
	}
}

func (a *Entities) command(name string) http.HandlerFunc {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := a.parseCommand(w, r, name)
		if err != nil {
			WriteError(w, err)
			return
		}
		if a.Waits != nil && a.commandWaiting(w, r, req, timeout) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		rep, err := a.Writer.Send(ctx, req)
		if err != nil {
			WriteError(w, err)
			return
		}
		w.Header().Set("ETag", `"`+strconv.FormatInt(rep.Version, 10)+`"`)
		WriteRaw(w, http.StatusOK, rep.State)
	}
}

// parseCommand validates everything about a command request before it leaves the server.
func (a *Entities) parseCommand(w http.ResponseWriter, r *http.Request, name string) (command.Request, error) {
	id, err := a.entityID(r)
	if err != nil {
		return command.Request{}, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return command.Request{}, failure.Newf(failure.TooLarge, "body_too_large", "body must be at most %d bytes", MaxBody)
	}
	if err != nil {
		return command.Request{}, failure.New(failure.Invalid, "invalid_body", "could not read the body: "+err.Error())
	}
	cmd, err := a.Parse(name, body)
	if err != nil {
		return command.Request{}, err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return command.Request{}, err
	}
	expected, err := ifMatch(r)
	if err != nil {
		return command.Request{}, err
	}
	fence, err := fencing(r)
	if err != nil {
		return command.Request{}, err
	}
	commandID := event.NewID()
	correlation := CorrelationID(r)
	if correlation == "" { // not behind Edge
		correlation = commandID
	}
	return command.Request{Kind: command.KindCommand, Entity: id, CommandID: commandID, Command: cmd.Type, Data: cmd.Data,
		IdempotencyKey: key, ExpectedVersion: expected, CorrelationID: correlation, Fencing: fence}, nil
}

func idempotencyKey(r *http.Request) (string, error) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		return "", failure.New(failure.Invalid, "invalid_idempotency_key", "Idempotency-Key must be at most 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", failure.New(failure.Invalid, "invalid_idempotency_key", "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return key, nil
}

// ifMatch parses If-Match: "3", 3 or W/"3" -> 3; "0" means the entity must not exist yet.
func ifMatch(r *http.Request) (*int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return nil, failure.New(failure.Invalid, "invalid_if_match", `If-Match must be a version ETag such as "3"`)
	}
	return &v, nil
}

// QueryInt returns the integer query parameter name (def if absent), or an Invalid
// failure if it is not an integer from min to max.
func QueryInt(r *http.Request, name string, def, min, max int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < min || v > max {
		return 0, failure.Newf(failure.Invalid, "invalid_"+name, "%s must be an integer from %d to %d", name, min, max)
	}
	return v, nil
}

func base62(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
