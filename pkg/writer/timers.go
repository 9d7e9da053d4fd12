package writer

import (
	"container/heap"
	"context"
	"strconv"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// Durable timers (aggregate.Scheduler). After each batch the writer asks the domain for
// the timers of every entity the batch changed and stores the set that changed in the
// batch's transaction (table timer). The commit loop keeps every stored timer of its
// partitions in memory, and a queue by due time; when one is due it runs the timer's
// command through decide like a client's, with an idempotency key of its own, and marks
// the timer fired in the same transaction as the outcome. A fired timer never fires again
// while the state still lists it at the same At; once the state no longer lists it, it is
// gone. A commit that fails leaves the timer unfired, to be fired again a second later.

// timerRetry is how long a timer whose firing could not be committed waits to fire again.
const timerRetry = time.Second

// timers is the writer's timer book. Owned by the commit loop.
type timers struct {
	sets  map[string][]sqlite.Timer // stream -> its stored timers, by key
	queue timerQueue
	clock *time.Timer
}

// queued is a timer waiting in the queue, valid while its stream's set holds key at at,
// unfired (a superseded or cancelled timer is dropped when it comes up).
type queued struct {
	due         time.Time
	at          time.Time
	stream, key string
}

type timerQueue []queued

func (q timerQueue) Len() int           { return len(q) }
func (q timerQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q timerQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *timerQueue) Push(x any)        { *q = append(*q, x.(queued)) }
func (q *timerQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// loadTimers reads the stored timers of the writer's partitions.
func (w *Writer[S]) loadTimers(ctx context.Context) error {
	w.tm.sets = make(map[string][]sqlite.Timer)
	w.tm.clock = time.NewTimer(time.Hour)
	if w.sched == nil {
		return nil
	}
	owned := map[int]bool{}
	for _, p := range w.cfg.Owned {
		owned[p] = true
	}
	prefix := w.name + "."
	defer func() { w.log.Info("timers loaded", "pending", len(w.tm.queue), "entities", len(w.tm.sets)) }()
	return w.store.Timers(ctx, func(t sqlite.Timer) error {
		id, ok := entityOf(t.Stream, prefix)
		if !ok || len(owned) > 0 && !owned[command.Partition(id, w.cfg.Partitions)] {
			return nil
		}
		w.tm.sets[t.Stream] = append(w.tm.sets[t.Stream], t)
		if !t.Fired {
			heap.Push(&w.tm.queue, queued{due: t.At, at: t.At, stream: t.Stream, key: t.Key})
		}
		return nil
	})
}

// armClock sets the clock to the earliest due timer.
func (w *Writer[S]) armClock() {
	if len(w.tm.queue) == 0 {
		w.tm.clock.Stop()
		return
	}
	w.tm.clock.Reset(time.Until(w.tm.queue[0].due))
}

// dueTimers returns a pending request for each timer due at now, at most limit.
func (w *Writer[S]) dueTimers(now time.Time, limit int) []*pending {
	var out []*pending
	type firing struct{ stream, key string }
	taken := map[firing]bool{}
	for len(w.tm.queue) > 0 && len(out) < limit && !w.tm.queue[0].due.After(now) {
		q := heap.Pop(&w.tm.queue).(queued)
		t, ok := findTimer(w.tm.sets[q.stream], q.key)
		if !ok || t.Fired || !t.At.Equal(q.at) || taken[firing{q.stream, q.key}] {
			continue // superseded, cancelled, fired, or queued twice
		}
		taken[firing{q.stream, q.key}] = true
		id, _ := entityOf(q.stream, w.name+".")
		out = append(out, &pending{timer: &t, stream: q.stream, req: command.Request{Kind: command.KindCommand,
			Entity: id, CommandID: event.NewID(),
			Command: t.Command, Data: t.Data, IdempotencyKey: timerKey(t)}})
	}
	return out
}

// entityOf returns the entity id of stream (its id part decoded: event.EncodeID).
func entityOf(stream, prefix string) (string, bool) {
	enc, ok := strings.CutPrefix(stream, prefix)
	if !ok {
		return "", false
	}
	id, err := event.DecodeID(enc)
	return id, err == nil
}

// timerKeyPrefix starts the idempotency keys of timers' firings, and no client's.
const timerKeyPrefix = "timer/"

// timerKey is the idempotency key of a timer's firing: one per stream, key and At.
func timerKey(t sqlite.Timer) string {
	return timerKeyPrefix + strconv.FormatInt(t.At.UnixNano(), 10) + "/" + t.Key
}

func findTimer(set []sqlite.Timer, key string) (sqlite.Timer, bool) {
	for _, t := range set {
		if t.Key == key {
			return t, true
		}
	}
	return sqlite.Timer{}, false
}

// stillListed reports whether the entity's state lists t with the same At and command:
// a timer taken from the queue may have been superseded by a command decided before it in
// the same batch.
func (w *Writer[S]) stillListed(e *entity[S], t *sqlite.Timer) bool {
	now, ok := findTimer(w.timersOf("", e.state), t.Key)
	return ok && now.At.Equal(t.At) && now.Command == t.Command && string(now.Data) == string(t.Data)
}

// pendingTimer reports whether stream has a timer not fired yet.
func (w *Writer[S]) pendingTimer(stream string) bool {
	for _, t := range w.tm.sets[stream] {
		if !t.Fired {
			return true
		}
	}
	return false
}

// mustStay reports whether the entity of stream must stay in memory: it has a pending
// timer, or its domain pins it (aggregate.Pinner).
func (w *Writer[S]) mustStay(stream string, e *entity[S]) bool {
	return w.pendingTimer(stream) || w.pinned != nil && e != nil && w.pinned(e.state)
}

// retryTimers queues again the timers a failed batch tried to fire.
func (w *Writer[S]) retryTimers(batch []*pending, now time.Time) {
	for _, p := range batch {
		if p.timer != nil {
			heap.Push(&w.tm.queue, queued{due: now.Add(timerRetry), at: p.timer.At, stream: p.stream, key: p.timer.Key})
		}
	}
}

// schedulerOf returns d's Timers and Pinned, nil for a domain without them.
func schedulerOf[S any](d aggregate.Domain[S]) (func(S) []aggregate.Timer, func(S) bool) {
	var sched func(S) []aggregate.Timer
	var pinned func(S) bool
	if s, ok := d.(aggregate.Scheduler[S]); ok {
		sched = s.Timers
	}
	if p, ok := d.(aggregate.Pinner[S]); ok {
		pinned = p.Pinned
	}
	return sched, pinned
}
