package writer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
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
// It checks the log as of its newest row when Verify starts. The log is read in chunks
// of seqs, several at once on connections of their own, which also parse the events;
// streams are folded in parallel, each by one goroutine, in log order. The newest
// states are then looked up stream by stream, or read in one query when there are many
// streams (newestStates).
func Verify[S any](ctx context.Context, store *sqlite.Store, d aggregate.Domain[S]) (Report, error) {
	start := time.Now()
	last, err := store.MaxSeq(ctx)
	if err != nil {
		return Report{}, err
	}
	folds, err := replay(ctx, store, d, last)
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
		doc, err := document(id, f.version, f.state)
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

// replay folds every accepted event with seq <= last through d, each stream by one of
// GOMAXPROCS folds (fold partOf(stream)), and returns the folds and the first error of
// reading or folding.
func replay[S any](ctx context.Context, store *sqlite.Store, d aggregate.Domain[S], last int64) ([]*fold[S], error) {
	folds := make([]*fold[S], runtime.GOMAXPROCS(0))
	chans := make([]chan replayPart, len(folds))
	var wg sync.WaitGroup
	for i := range folds {
		folds[i] = &fold[S]{domain: d, streams: map[string]*folded[S]{}}
		chans[i] = make(chan replayPart, 4)
		wg.Add(1)
		go func(f *fold[S], in <-chan replayPart) {
			defer wg.Done()
			for p := range in {
				f.add(p)
			}
		}(folds[i], chans[i])
	}
	err := readLog(ctx, store, last, len(folds), func(parts []replayPart) {
		for i, p := range parts {
			if len(p.rows) > 0 {
				chans[i] <- p
			}
		}
	})
	for _, c := range chans {
		close(c)
	}
	wg.Wait()
	for _, f := range folds {
		if err == nil && f.err != nil {
			err = f.err
		}
	}
	return folds, err
}

// replayPart is what one fold gets of a chunk of the log: rows in seq order and their
// events, parsed by the reader.
type replayPart struct {
	rows   []replayRow
	events []storedEvent
}

type replayRow struct {
	seq, version int64
	stream       []byte
	events       int // how many of the part's events are this row's, after the previous rows'
}

// partOf returns the fold of stream among n.
func partOf(stream []byte, n int) int {
	return int(maphash.Bytes(streamSeed, stream) % uint64(n))
}

var streamSeed = maphash.MakeSeed()

// arena holds copies of what a reader reads, in blocks, so that a replay does not
// allocate for every row. A block is never reused: a fold may keep what it was given.
type arena struct{ block []byte }

const arenaBlock = 1 << 20

func (a *arena) copy(b []byte) []byte {
	if len(b) > cap(a.block)-len(a.block) {
		a.block = make([]byte, 0, max(arenaBlock, len(b)))
	}
	n := len(a.block)
	a.block = append(a.block, b...)
	return a.block[n:len(a.block):len(a.block)]
}

// replayChunk is how many seqs one read of the replay covers. (A variable for tests.)
var replayChunk int64 = 16384

// readLog reads the accepted rows with seq <= last in chunks of replayChunk seqs, as many
// chunks at once as there are parts, each on a connection of its own, and hands each
// chunk to deliver in seq order, split into parts by stream (part partOf(stream, parts)).
func readLog(ctx context.Context, store *sqlite.Store, last int64, parts int, deliver func([]replayPart)) error {
	type chunk struct {
		parts []replayPart
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	readers := int64(parts)
	chunks := (last + replayChunk - 1) / replayChunk
	out := make([]chan chunk, readers)
	for r := range out {
		out[r] = make(chan chunk, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			lr, err := store.NewLogReader(ctx)
			if err != nil {
				select {
				case out[r] <- chunk{err: err}:
				case <-ctx.Done():
				}
				return
			}
			defer lr.Close()
			var mem arena
			for c := int64(r); c < chunks; c += readers {
				ch := chunk{parts: make([]replayPart, parts)}
				for i := range ch.parts {
					size := int(replayChunk)/parts + int(replayChunk)/16 // rows, mostly one event each
					ch.parts[i] = replayPart{rows: make([]replayRow, 0, size), events: make([]storedEvent, 0, size)}
				}
				ch.err = lr.ForEachAccepted(ctx, c*replayChunk, min((c+1)*replayChunk, last), func(seq int64, stream []byte, version int64, events []byte) error {
					p := &ch.parts[partOf(stream, parts)]
					n := len(p.events)
					var err error
					if p.events, err = splitEvents(p.events, events); err != nil {
						return fmt.Errorf("%s v%d: %w", stream, version, err)
					}
					for i := n; i < len(p.events); i++ {
						p.events[i].Data = mem.copy(p.events[i].Data) // it points into the row
					}
					p.rows = append(p.rows, replayRow{seq: seq, version: version, stream: mem.copy(stream), events: len(p.events) - n})
					return nil
				})
				select {
				case out[r] <- ch:
				case <-ctx.Done():
					return
				}
				if ch.err != nil {
					return
				}
			}
		}()
	}
	for c := range chunks {
		select {
		case ch := <-out[c%readers]:
			if ch.err != nil {
				return ch.err
			}
			deliver(ch.parts)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type folded[S any] struct {
	state   S
	version int64 // of the last event folded
	// The row with the newest version, whose seq the newest state is stored under.
	newestSeq, newestVersion int64
}

// fold replays the streams one goroutine owns.
type fold[S any] struct {
	domain     aggregate.Domain[S]
	streams    map[string]*folded[S]
	events     int64
	mismatches []string
	err        error
}

func (f *fold[S]) add(p replayPart) {
	evs := p.events
	for _, r := range p.rows {
		if f.err != nil {
			return
		}
		st := f.streams[string(r.stream)]
		if st == nil {
			st = &folded[S]{}
			f.streams[string(r.stream)] = st
		}
		if r.version > st.newestVersion {
			st.newestSeq, st.newestVersion = r.seq, r.version
		}
		for _, e := range evs[:r.events] {
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
		evs = evs[r.events:]
	}
}
