package writer

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// The replay behind Verify: the event log read in chunks, split by stream into parts
// folded in parallel. Events are decoded by event.DecodeLog and upcast to their
// current versions before the domain sees them.

// replay folds every accepted event with seq <= last through d, upcast by up, each
// stream by one of GOMAXPROCS folds (fold partOf(stream)), and returns the folds and the
// first error of reading or folding.
func replay[S any](ctx context.Context, store *sqlite.Store, d aggregate.Domain[S], up *event.Upcasters, last int64) ([]*fold[S], error) {
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
	err := readLog(ctx, store, up, last, len(folds), func(parts []replayPart) {
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
	events []replayEvent
}

// replayEvent is what a fold needs of an event, upcast.
type replayEvent struct {
	version int64
	typ     string
	data    []byte
	fencing map[string]int64
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
// chunks at once as there are parts, each on a connection of its own, decodes their
// events (upcast by up), and hands each chunk to deliver in seq order, split into parts
// by stream (part partOf(stream, parts)).
func readLog(ctx context.Context, store *sqlite.Store, up *event.Upcasters, last int64, parts int, deliver func([]replayPart)) error {
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
			var decoded []event.Envelope // reused: each row's events are copied out
			for c := int64(r); c < chunks; c += readers {
				ch := chunk{parts: make([]replayPart, parts)}
				for i := range ch.parts {
					size := int(replayChunk)/parts + int(replayChunk)/16 // rows, mostly one event each
					ch.parts[i] = replayPart{rows: make([]replayRow, 0, size), events: make([]replayEvent, 0, size)}
				}
				ch.err = lr.ForEachAccepted(ctx, c*replayChunk, min((c+1)*replayChunk, last), func(seq int64, stream []byte, version int64, events []byte) error {
					p := &ch.parts[partOf(stream, parts)]
					var err error
					// The copy in the arena is never changed: the events' strings and data share it.
					if decoded, err = event.DecodeLogShared(decoded[:0], mem.copy(events), up); err != nil {
						return fmt.Errorf("%s v%d: %w", stream, version, err)
					}
					for _, e := range decoded {
						p.events = append(p.events, replayEvent{version: e.Version, typ: e.Type, data: e.Data, fencing: e.Fencing})
					}
					p.rows = append(p.rows, replayRow{seq: seq, version: version, stream: mem.copy(stream), events: len(decoded)})
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
	version int64            // of the last event folded
	fencing map[string]int64 // the highest fencing tokens of its events
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
			if e.version != st.version+1 && len(f.mismatches) < 100 {
				f.mismatches = append(f.mismatches, fmt.Sprintf("%s: event version %d follows %d", r.stream, e.version, st.version))
			}
			s, err := f.domain.Evolve(st.state, aggregate.Event{Type: e.typ, Data: e.data})
			if err != nil {
				f.err = fmt.Errorf("%s v%d: %w", r.stream, e.version, err)
				return
			}
			st.state, st.version, st.fencing = s, e.version, raiseFence(st.fencing, e.fencing)
			f.events++
		}
		evs = evs[r.events:]
	}
}
