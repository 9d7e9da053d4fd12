package writer

// An entity's timers after each commit: derived from its new state, compared with the
// stored ones, written in the batch's transaction and installed on the clock.

import (
	"container/heap"
	"slices"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// timerSet is the new set of timers of an entity.
type timerSet struct {
	stream string
	timers []sqlite.Timer
}

// nextTimers returns the timer sets the batch changes, and the changes to store: the sets
// of the entities it changed (from the domain's Timers of the new state) and of the
// timers it fired (marked fired).
func (w *Writer[S]) nextTimers(batch []*pending, before map[string]*entity[S]) ([]timerSet, []sqlite.TimerChange) {
	if w.sched == nil {
		return nil, nil
	}
	fired := map[string][]sqlite.Timer{}
	for _, p := range batch {
		if p.timer != nil {
			fired[p.stream] = append(fired[p.stream], *p.timer)
		}
	}
	streams := make([]string, 0, len(before)+len(fired))
	for s := range before {
		streams = append(streams, s)
	}
	for s := range fired {
		if _, ok := before[s]; !ok {
			streams = append(streams, s)
		}
	}
	slices.Sort(streams)
	var sets []timerSet
	var changes []sqlite.TimerChange
	for _, stream := range streams {
		old := w.tm.sets[stream]
		next := old
		if e := w.entities.peek(stream); e != nil && e.version != versionOf(before[stream]) {
			next = w.timersOf(stream, e.state)
		}
		next = slices.Clone(next)
		for i := range next {
			t := &next[i]
			if o, ok := findTimer(old, t.Key); ok && o.Fired && o.At.Equal(t.At) {
				t.Fired = true
			}
			for _, f := range fired[stream] {
				if f.Key == t.Key && f.At.Equal(t.At) {
					t.Fired = true
				}
			}
		}
		if c := diffTimers(old, next); len(c) > 0 {
			sets = append(sets, timerSet{stream: stream, timers: next})
			changes = append(changes, c...)
		}
	}
	return sets, changes
}

// diffTimers returns the changes from old to next, two sets of one entity by key.
func diffTimers(old, next []sqlite.Timer) []sqlite.TimerChange {
	var out []sqlite.TimerChange
	for _, t := range next {
		if o, ok := findTimer(old, t.Key); !ok || !sameTimer(o, t) {
			out = append(out, sqlite.TimerChange{Timer: t})
		}
	}
	for _, o := range old {
		if _, ok := findTimer(next, o.Key); !ok {
			out = append(out, sqlite.TimerChange{Timer: o, Delete: true})
		}
	}
	return out
}

// timersOf returns the domain's timers of state as stored, by key (the last of a key wins).
func (w *Writer[S]) timersOf(stream string, state S) []sqlite.Timer {
	return timerRows(stream, w.sched(state))
}

// timerRows returns the timers of list as stored, by key (the last of a key wins).
func timerRows(stream string, list []aggregate.Timer) []sqlite.Timer {
	out := make([]sqlite.Timer, 0, len(list))
	for _, t := range list {
		// At as the table stores it: unix nanoseconds (a zero At fires at once)
		st := sqlite.Timer{Stream: stream, Key: t.Key, At: time.Unix(0, max(t.At.UnixNano(), 0)).UTC(), Command: t.Command.Type, Data: t.Command.Data}
		if len(st.Data) == 0 {
			st.Data = []byte("{}")
		}
		if i := slices.IndexFunc(out, func(o sqlite.Timer) bool { return o.Key == t.Key }); i >= 0 {
			out[i] = st
			continue
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b sqlite.Timer) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func sameTimer(x, y sqlite.Timer) bool {
	return x.Key == y.Key && x.At.Equal(y.At) && x.Command == y.Command && string(x.Data) == string(y.Data) && x.Fired == y.Fired
}

// installTimers takes the committed sets into the book and queues their new timers.
func (w *Writer[S]) installTimers(sets []timerSet) {
	for _, set := range sets {
		old := w.tm.sets[set.stream]
		for _, t := range set.timers {
			if o, ok := findTimer(old, t.Key); !t.Fired && (!ok || !o.At.Equal(t.At) || o.Fired) {
				heap.Push(&w.tm.queue, queued{due: t.At, at: t.At, stream: set.stream, key: t.Key})
			}
		}
		if len(set.timers) == 0 {
			delete(w.tm.sets, set.stream)
		} else {
			w.tm.sets[set.stream] = set.timers
		}
	}
}
