package writer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/event"
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

// Verify replays every accepted event of store through d, each upcast to the current
// version of its type (aggregate.Versioned), and compares the result with
// the newest state log entry of every stream: state document and version must be equal.
// It checks the log as of its newest row when Verify starts. The log is read in chunks
// of seqs, several at once on connections of their own, which also parse the events;
// streams are folded in parallel, each by one goroutine, in log order. The newest
// states are then looked up stream by stream, or read in one query when there are many
// streams (newestStates).
func Verify[S any](ctx context.Context, store *sqlite.Store, d aggregate.Domain[S]) (Report, error) {
	start := time.Now()
	var last int64
	var timers []sqlite.Timer // for a Scheduler, as of last
	var err error
	if _, ok := d.(aggregate.Scheduler[S]); ok {
		last, timers, err = store.TimersAsOf(ctx)
	} else {
		last, err = store.MaxSeq(ctx)
	}
	if err != nil {
		return Report{}, err
	}
	up, err := event.NewUpcasters(d)
	if err != nil {
		return Report{}, err
	}
	folds, err := replay(ctx, store, d, up, last)
	var rep Report
	mismatch := func(format string, args ...any) {
		if len(rep.Mismatches) < 100 {
			rep.Mismatches = append(rep.Mismatches, fmt.Sprintf(format, args...))
		}
	}
	streams := 0
	for _, f := range folds {
		rep.Events += f.events
		streams += len(f.streams)
		for _, m := range f.mismatches {
			mismatch("%s", m)
		}
	}
	if err != nil {
		return rep, err
	}
	states, err := newestStates(ctx, store, folds, last)
	if err != nil {
		return rep, err
	}
	for _, st := range states {
		f := folds[partOf([]byte(st.Stream), len(folds))].streams[st.Stream]
		if f == nil {
			mismatch("%s: in the state log but has no events", st.Stream)
			continue
		}
		if st.State == nil {
			mismatch("%s: the state log has no state for version %d, its newest", st.Stream, st.Version)
			continue
		}
		id := st.Stream[strings.IndexByte(st.Stream, '.')+1:]
		doc, err := fencedDocument(id, f.version, f.fencing, f.state)
		if err != nil {
			return rep, err
		}
		if f.version != st.Version || !bytes.Equal(doc, st.State) {
			mismatch("%s: replay gives version %d %s, state log has version %d %s", st.Stream, f.version, doc, st.Version, st.State)
		}
	}
	if len(states) != streams {
		mismatch("%d streams have events, %d have a state", streams, len(states))
	}
	verifyTimers(d, timers, folds, mismatch)
	rep.Streams, rep.Duration = streams, time.Since(start)
	return rep, nil
}

// statesByLookup is how many events per stream the log must have, at least, for
// newestStates to look each stream's state up rather than query them all: a look-up
// (5 to 25 µs, most of it the first read of its pages) costs about what the query costs
// for 64 events (0.3 µs each). (A variable for tests.)
var statesByLookup int64 = 64

// newestStates returns the newest state log entry of every stream as of seq last, in
// stream order (State nil where that version has no state). With few streams it looks
// each up under the seq of the stream's newest row, which the replay saw: the log
// reader refuses versions on rows not accepted, so that row holds the newest version.
// With many it reads them all from the event table's (stream, version) index.
func newestStates[S any](ctx context.Context, store *sqlite.Store, folds []*fold[S], last int64) ([]sqlite.State, error) {
	var streams, events int64
	for _, f := range folds {
		streams, events = streams+int64(len(f.streams)), events+f.events
	}
	var states []sqlite.State
	if streams*statesByLookup > events {
		err := store.ForEachLatestState(ctx, last, func(st sqlite.State) error {
			states = append(states, st)
			return nil
		})
		return states, err
	}
	lr, err := store.NewLogReader(ctx)
	if err != nil {
		return nil, err
	}
	defer lr.Close()
	states = make([]sqlite.State, 0, streams)
	for _, f := range folds {
		for stream, st := range f.streams {
			doc, ok, err := lr.StateAt(st.newestSeq)
			if err != nil {
				return nil, err
			}
			newest := sqlite.State{Stream: stream, Version: st.newestVersion}
			if ok {
				newest.State = append(json.RawMessage{}, doc...)
			}
			states = append(states, newest)
		}
	}
	slices.SortFunc(states, func(a, b sqlite.State) int { return strings.Compare(a.Stream, b.Stream) })
	return states, nil
}

// verifyTimers compares the timer table (as of the replay's last row) with the timers
// the domain (an aggregate.Scheduler) lists for each replayed state, fired or not.
func verifyTimers[S any](d aggregate.Domain[S], timers []sqlite.Timer, folds []*fold[S], mismatch func(string, ...any)) {
	sched, ok := d.(aggregate.Scheduler[S])
	if !ok {
		return
	}
	stored := map[string][]sqlite.Timer{}
	for _, t := range timers {
		t.Fired = false
		stored[t.Stream] = append(stored[t.Stream], t)
	}
	for _, f := range folds {
		for stream, st := range f.streams {
			want := timerRows(stream, sched.Timers(st.state))
			if got := stored[stream]; (len(want) > 0 || len(got) > 0) && !slices.EqualFunc(got, want, sameTimer) {
				mismatch("%s: timer table holds %s, the replayed state lists %s", stream, timerList(got), timerList(want))
			}
			delete(stored, stream)
		}
	}
	for stream := range stored {
		mismatch("%s: has timers but no events", stream)
	}
}

func timerList(ts []sqlite.Timer) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s@%s", t.Key, t.At.Format(time.RFC3339Nano))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
