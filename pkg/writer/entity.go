package writer

import (
	"context"
	"encoding/json"
	"strconv"

	"uneventful.dev/uneventful/pkg/failure"
)

// entity is the in-memory state of one entity, owned by the commit loop.
type entity[S any] struct {
	state   S
	version int64
	doc     []byte           // the read model document of (state, version, fencing)
	fencing map[string]int64 // the highest fencing token accepted per lock (never modified in place)
}

// document returns the read model document of an entity: the state's JSON object with
// "id" and "version" first, e.g. {"id":"28sk...","version":3,"balance":"5.00"}.
// The state's own JSON must therefore not use the names "id" and "version".
func document(id string, version int64, state any) ([]byte, error) {
	return fencedDocument(id, version, nil, state)
}

// fencedDocument is document with the entity's fencing tokens, if any, after "version":
// {"id":"28sk...","version":3,"fencing":{"myapp.resource":7},"balance":"5.00"}.
func fencedDocument(id string, version int64, fencing map[string]int64, state any) ([]byte, error) {
	body, err := json.Marshal(state)
	if err != nil || len(body) < 2 || body[0] != '{' {
		return nil, failure.Newf(failure.Internal, "bad_state", "state of %s must marshal to a JSON object", id)
	}
	idJSON, _ := json.Marshal(id)
	doc := make([]byte, 0, len(body)+len(idJSON)+32)
	doc = append(doc, `{"id":`...)
	doc = append(doc, idJSON...)
	doc = append(doc, `,"version":`...)
	doc = strconv.AppendInt(doc, version, 10)
	if len(fencing) > 0 {
		f, _ := json.Marshal(fencing) // keys sorted: the same tokens always give the same bytes
		doc = append(doc, `,"fencing":`...)
		doc = append(doc, f...)
	}
	if len(body) > 2 {
		doc = append(doc, ',')
	}
	return append(doc, body[1:]...), nil
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
