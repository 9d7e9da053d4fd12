package httpapi

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strconv"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
)

// Lifecycle is what Entities knows of its domain beyond documents (NewLifecycle builds
// it): whether an entity ended, and its state as of an earlier version.
type Lifecycle struct {
	// Ended reports whether a state document is of an entity that ended (nil: the
	// domain's entities never end). Such an entity's state answers not_found and its live
	// event stream closes after its last event (pkg/aggregate, Ending).
	Ended func(doc []byte) bool
	// Replay returns the state document of entity id at version, from its events
	// 1..version in order (GET /{domain}/{id}?revision=N).
	Replay func(id string, version int64, events iter.Seq2[aggregate.Event, error]) ([]byte, error)
}

// NewLifecycle returns the Lifecycle of domain d.
func NewLifecycle[S any](d aggregate.Domain[S]) *Lifecycle {
	l := &Lifecycle{Replay: func(id string, version int64, events iter.Seq2[aggregate.Event, error]) ([]byte, error) {
		var s S
		for e, err := range events {
			if err == nil {
				s, err = d.Evolve(s, e)
			}
			if err != nil {
				return nil, err
			}
		}
		return event.Document(id, version, s)
	}}
	if aggregate.CanEnd(d) {
		l.Ended = func(doc []byte) bool {
			var s S
			return json.Unmarshal(doc, &s) == nil && aggregate.Ended(d, s)
		}
	}
	return l
}

// stateDocument returns the state document GET /{domain}/{id} answers: the current one,
// or the one at ?revision=N (1 to the current version). An entity that ended is
// not_found, as one never written.
func (a *Entities) stateDocument(r *http.Request, id string) ([]byte, error) {
	q := r.URL.Query()
	var revision int64
	if q.Has("revision") {
		v, err := strconv.ParseInt(q.Get("revision"), 10, 64)
		if err != nil || v < 1 {
			return nil, failure.New(failure.Invalid, "invalid_revision", "revision must be an integer from 1 to the entity's version")
		}
		revision = v
	}
	doc, err := a.document(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if a.Lifecycle == nil {
		return doc, nil
	}
	if a.Lifecycle.Ended != nil && a.Lifecycle.Ended(doc) {
		return nil, failure.Newf(failure.NotFound, "not_found", "%s %s has ended", a.Domain, id)
	}
	version := event.DocVersion(doc)
	switch {
	case revision == 0 || revision == version:
		return doc, nil
	case revision > version:
		return nil, failure.Newf(failure.Invalid, "invalid_revision", "%s %s is at version %d: revision must be from 1 to %d", a.Domain, id, version, version)
	}
	return a.Lifecycle.Replay(id, revision, a.storedUpTo(r.Context(), id, revision))
}

// storedUpTo yields the stored events 1..version of entity id, in order, from the read
// model. Events missing there (Redis lost them) make the writer restore its read model
// once; missing still, the sequence ends with an unavailable failure.
func (a *Entities) storedUpTo(ctx context.Context, id string, version int64) iter.Seq2[aggregate.Event, error] {
	return func(yield func(aggregate.Event, error) bool) {
		key := event.Stream(a.Domain, id)
		var last int64
		for restored := false; last < version; {
			page, err := a.Stored.EventsAfter(ctx, key, last, int(min(storedPage, version-last)))
			if err != nil {
				yield(aggregate.Event{}, failure.New(failure.Unavailable, "read_model_unavailable", err.Error()))
				return
			}
			gap := len(page) == 0
			for _, s := range page {
				var e struct {
					Version int64           `json:"version"`
					Type    string          `json:"type"`
					Data    json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal([]byte(s), &e); err != nil || e.Version != last+1 {
					gap = true
					break
				}
				if !yield(aggregate.Event{Type: e.Type, Data: e.Data}, nil) {
					return
				}
				last = e.Version
			}
			if !gap {
				continue
			}
			if restored {
				yield(aggregate.Event{}, failure.Newf(failure.Unavailable, "events_unavailable", "event %d of %s is missing from the read model; retry later", last+1, key))
				return
			}
			if _, err := a.Writer.Send(ctx, command.Request{Kind: command.KindLoad, Entity: id}); err != nil {
				yield(aggregate.Event{}, err)
				return
			}
			restored = true
		}
	}
}

// ended reports whether the entity ended with the last event f sent: then its stream
// closes (C8). The read model may be behind the stream (a live event arrives before
// Redis has the document); then the writer's state decides.
func (f *follower) ended(ctx context.Context) (bool, error) {
	l := f.a.Lifecycle
	if l == nil || l.Ended == nil || f.last == 0 {
		return false, nil
	}
	doc, err := f.a.document(ctx, f.id)
	if err == nil && event.DocVersion(doc) < f.last {
		var rep command.Reply
		rep, err = f.a.Writer.Send(ctx, command.Request{Kind: command.KindLoad, Entity: f.id})
		doc = rep.State
	}
	if failure.KindOf(err) == failure.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return event.DocVersion(doc) == f.last && l.Ended(doc), nil
}
