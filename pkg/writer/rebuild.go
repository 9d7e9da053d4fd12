package writer

import (
	"context"
	"encoding/json"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
)

// rebuildChunk is how many entities one rebuild step checks at most, and rebuildEvents
// about how many events it restores at most, so a step delays the replies waiting behind
// it by milliseconds, not seconds. (Variables only for tests.)
var (
	rebuildChunk  = 500
	rebuildEvents = 10_000
)

// rebuild is the state of a pass over every entity's read model: at start-up (a killed
// writer may have left updates unwritten) and whenever Redis has lost the marker key
// (FLUSHALL, a restart without persistence). Owned by the after-commit loop.
//
// The pass runs on the after-commit loop, a chunk at a time between batches, so it is ordered
// with every reply: it reads the state log, which holds at least every version already
// answered, and the apply script never lets a document go back. A reader of Redis may
// meanwhile find no document (a miss) for an entity not rebuilt yet, never an older one.
type rebuild struct {
	active   bool
	after    string // the last stream checked
	began    time.Time
	checked  int
	restored int
	failing  bool // the last step failed (logged once)
}

// startRebuild begins a pass from the first entity.
func (w *Writer[S]) startRebuild(reason string) {
	w.rb = rebuild{active: true, began: time.Now()}
	w.log.Info("read model check started", "reason", reason)
}

// checkMarker starts a pass if Redis lost the marker (or resumes a failed one).
func (w *Writer[S]) checkMarker(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ok, err := w.proj.Marked(ctx, redis.MarkerKey(w.name))
	switch {
	case err != nil:
		return // Redis is away; look again on the next tick
	case !ok:
		w.startRebuild("the read model marker is missing: Redis lost its data")
	case w.rb.failing:
		w.rb.active, w.rb.failing = true, false
	}
}

// rebuildStep checks one chunk of entities and restores those whose document is missing
// or older than the state log's. On an error the pass pauses until checkMarker resumes it.
func (w *Writer[S]) rebuildStep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.rebuildChunk(ctx); err != nil {
		if !w.rb.failing {
			w.log.Warn("read model check paused; will resume", "after", w.rb.after, "err", err)
		}
		w.rb.active, w.rb.failing = false, true
	}
}

func (w *Writer[S]) rebuildChunk(ctx context.Context) error {
	if w.rb.after == "" && w.rb.checked == 0 {
		// Set first: if Redis loses its data during the pass, the marker goes too, and
		// checkMarker starts again from the beginning.
		if err := w.proj.Mark(ctx, redis.MarkerKey(w.name)); err != nil {
			return err
		}
	}
	states, err := w.store.LatestStates(ctx, w.rb.after, rebuildChunk)
	if err != nil {
		return err
	}
	keys := make([]string, len(states))
	for i, st := range states {
		keys[i] = st.Stream
	}
	versions, err := w.proj.Versions(ctx, keys)
	if err != nil {
		return err
	}
	budget := int64(rebuildEvents)
	for i, st := range states {
		if budget <= 0 {
			return nil // the rest in the next step
		}
		if versions[i] < st.Version && st.State != nil { // nil: no state row to restore (verify reports it)
			if err := w.restoreEntity(ctx, redis.Update{Key: st.Stream, Version: st.Version, Doc: st.State}); err != nil {
				return err
			}
			w.rb.restored++
			budget -= st.Version // an entity holds about as many events as its version
		}
		w.rb.after = st.Stream
		w.rb.checked++
	}
	if len(states) < rebuildChunk {
		w.rb.active = false
		w.log.Info("read model checked", "entities", w.rb.checked, "restored", w.rb.restored, "took", time.Since(w.rb.began).String())
	}
	return nil
}

// storedEntries appends the read model entries of an event log row's events to entries:
// each event as stored, or, if it was stored in an older version of its type, upcast and
// marshalled again, so that readers of Redis find every event in its current format.
func (w *Writer[S]) storedEntries(entries []redis.Entry, events []byte) ([]redis.Entry, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(events, &raws); err != nil {
		return entries, err
	}
	for _, raw := range raws {
		e, err := event.Decode(raw, nil)
		if err != nil {
			return entries, err
		}
		stored := e.Schema
		if err := w.up.Upcast(&e); err != nil {
			return entries, err
		}
		if e.Schema != stored {
			if raw, err = json.Marshal(e); err != nil {
				return entries, err
			}
		}
		entries = append(entries, redis.Entry{Version: e.Version, JSON: raw})
	}
	return entries, nil
}
