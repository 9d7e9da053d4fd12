package writer

import (
	"context"
	"encoding/json"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
)

// entity is the in-memory state of one entity, owned by the commit loop.
type entity[S any] struct {
	state   S
	version int64
	doc     []byte           // the read model document of (state, version, fencing)
	fencing map[string]int64 // the highest fencing token accepted per lock (never modified in place)
}

// document returns the read model document of an entity (event.Document).
func document(id string, version int64, state any) ([]byte, error) {
	return fencedDocument(id, version, nil, state)
}

// fencedDocument is document with the entity's fencing tokens, if any, after "version"
// (event.FencedDocument).
func fencedDocument(id string, version int64, fencing map[string]int64, state any) ([]byte, error) {
	doc, err := event.FencedDocument(id, version, fencing, state)
	if err != nil {
		return nil, failure.Newf(failure.Internal, "bad_state", "state of %s must marshal to a JSON object", id)
	}
	return doc, nil
}

// load returns the entity of stream, from memory or else from the state log (never
// loaded, or evicted: the log holds every committed state). An entity never written
// comes back with version 0 and is not kept.
func (w *Writer[S]) load(ctx context.Context, stream, id string) (*entity[S], error) {
	if e, ok := w.entities.get(stream); ok {
		return e, nil
	}
	st, ok, err := w.store.LatestState(ctx, stream)
	if err != nil {
		return nil, err
	}
	e := &entity[S]{}
	if !ok {
		return e, nil
	}
	if err := json.Unmarshal(st.State, &e.state); err != nil {
		return nil, failure.Newf(failure.Internal, "corrupt_state", "state log of %s: %v", stream, err)
	}
	if e.fencing, err = docFencing(st.State); err != nil {
		return nil, failure.Newf(failure.Internal, "corrupt_state", "state log of %s: %v", stream, err)
	}
	e.version, e.doc = st.Version, st.State
	held := w.entities.put(stream, e)
	w.entities.pin(stream, w.mustStay(stream, held))
	return held, nil
}
