package writer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// Report is the outcome of Verify.
type Report struct {
	Streams    int           `json:"streams"`
	Events     int64         `json:"events"`
	Duration   time.Duration `json:"duration_ns"`
	Mismatches []string      `json:"mismatches,omitempty"` // at most 100
}

// OK reports whether the replay matched the state log everywhere.
func (r Report) OK() bool { return len(r.Mismatches) == 0 }

// Verify replays every accepted event of store through d and compares the result with
// the newest state log entry of every stream: state document and version must be equal.
func Verify[S any](ctx context.Context, store *sqlite.Store, d aggregate.Domain[S]) (Report, error) {
	start := time.Now()
	type folded struct {
		state   S
		version int64
	}
	streams := make(map[string]*folded)
	var rep Report
	var evs []struct {
		Version int64           `json:"version"`
		Type    string          `json:"type"`
		Data    json.RawMessage `json:"data"`
	}
	mismatch := func(format string, args ...any) {
		if len(rep.Mismatches) < 100 {
			rep.Mismatches = append(rep.Mismatches, fmt.Sprintf(format, args...))
		}
	}
	err := store.ForEachAccepted(ctx, func(stream string, version int64, events []byte) error {
		f := streams[stream]
		if f == nil {
			f = &folded{}
			streams[stream] = f
		}
		evs = evs[:0]
		if err := json.Unmarshal(events, &evs); err != nil {
			return fmt.Errorf("%s v%d: %w", stream, version, err)
		}
		for _, e := range evs {
			if e.Version != f.version+1 {
				mismatch("%s: event version %d follows %d", stream, e.Version, f.version)
			}
			s, err := d.Evolve(f.state, aggregate.Event{Type: e.Type, Data: e.Data})
			if err != nil {
				return fmt.Errorf("%s v%d: %w", stream, e.Version, err)
			}
			f.state, f.version = s, e.Version
			rep.Events++
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	seen := 0
	err = store.ForEachLatestState(ctx, func(st sqlite.State) error {
		seen++
		f := streams[st.Stream]
		if f == nil {
			mismatch("%s: in the state log but has no events", st.Stream)
			return nil
		}
		id := st.Stream[strings.IndexByte(st.Stream, '.')+1:]
		doc, err := document(id, f.version, f.state)
		if err != nil {
			return err
		}
		if f.version != st.Version || !bytes.Equal(doc, st.State) {
			mismatch("%s: replay gives version %d %s, state log has version %d %s", st.Stream, f.version, doc, st.Version, st.State)
		}
		return nil
	})
	if seen != len(streams) {
		mismatch("%d streams have events, %d have a state", len(streams), seen)
	}
	rep.Streams, rep.Duration = len(streams), time.Since(start)
	return rep, err
}
