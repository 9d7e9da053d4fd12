package writer

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
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
// Streams are folded in parallel, each by one goroutine, in log order.
func Verify[S any](ctx context.Context, store *sqlite.Store, d aggregate.Domain[S]) (Report, error) {
	start := time.Now()
	workers := runtime.GOMAXPROCS(0)
	folds := make([]*fold[S], workers)
	chans := make([]chan []replayRow, workers)
	var wg sync.WaitGroup
	for i := range folds {
		folds[i] = &fold[S]{domain: d, streams: map[string]*folded[S]{}}
		chans[i] = make(chan []replayRow, 16)
		wg.Add(1)
		go func(f *fold[S], in <-chan []replayRow) {
			defer wg.Done()
			for rows := range in {
				f.add(rows)
			}
		}(folds[i], chans[i])
	}
	pending := make([][]replayRow, workers)
	err := store.ForEachAccepted(ctx, func(stream string, version int64, events []byte) error {
		w := int(fnv32(stream) % uint32(workers))
		pending[w] = append(pending[w], replayRow{stream: stream, version: version, events: append([]byte(nil), events...)})
		if len(pending[w]) == 256 {
			chans[w] <- pending[w]
			pending[w] = nil
		}
		return nil
	})
	for w := range chans {
		if len(pending[w]) > 0 {
			chans[w] <- pending[w]
		}
		close(chans[w])
	}
	wg.Wait()
	var rep Report
	mismatch := func(format string, args ...any) {
		if len(rep.Mismatches) < 100 {
			rep.Mismatches = append(rep.Mismatches, fmt.Sprintf(format, args...))
		}
	}
	streams := 0
	for _, f := range folds {
		if err == nil && f.err != nil {
			err = f.err
		}
		rep.Events += f.events
		streams += len(f.streams)
		for _, m := range f.mismatches {
			mismatch("%s", m)
		}
	}
	if err != nil {
		return rep, err
	}
	seen := 0
	err = store.ForEachLatestState(ctx, func(st sqlite.State) error {
		seen++
		f := folds[fnv32(st.Stream)%uint32(workers)].streams[st.Stream]
		if f == nil {
			mismatch("%s: in the state log but has no events", st.Stream)
			return nil
		}
		if st.State == nil {
			mismatch("%s: the state log has no state for version %d, its newest", st.Stream, st.Version)
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
	if seen != streams {
		mismatch("%d streams have events, %d have a state", streams, seen)
	}
	rep.Streams, rep.Duration = streams, time.Since(start)
	return rep, err
}

type replayRow struct {
	stream  string
	version int64
	events  []byte
}

type folded[S any] struct {
	state   S
	version int64
}

// fold replays the streams one goroutine owns.
type fold[S any] struct {
	domain     aggregate.Domain[S]
	streams    map[string]*folded[S]
	events     int64
	mismatches []string
	err        error
	buf        []storedEvent
}

func (f *fold[S]) add(rows []replayRow) {
	for _, r := range rows {
		if f.err != nil {
			return
		}
		st := f.streams[r.stream]
		if st == nil {
			st = &folded[S]{}
			f.streams[r.stream] = st
		}
		evs, err := splitEvents(f.buf[:0], r.events)
		if err != nil {
			f.err = fmt.Errorf("%s v%d: %w", r.stream, r.version, err)
			return
		}
		f.buf = evs
		for _, e := range evs {
			if e.Version != st.version+1 && len(f.mismatches) < 100 {
				f.mismatches = append(f.mismatches, fmt.Sprintf("%s: event version %d follows %d", r.stream, e.Version, st.version))
			}
			s, err := f.domain.Evolve(st.state, aggregate.Event{Type: e.Type, Data: e.Data})
			if err != nil {
				f.err = fmt.Errorf("%s v%d: %w", r.stream, e.Version, err)
				return
			}
			st.state, st.version = s, e.Version
			f.events++
		}
	}
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
