package writer

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/outbox"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
)

// process decides every request of batch, commits the rows in one transaction, and
// returns the batch with replies set. If the commit fails, the in-memory state is
// restored and every command in the batch is answered with the failure: none was applied.
func (w *Writer[S]) process(batch []*pending) []*pending {
	defer w.entities.trim() // between batches: memory and the state log agree
	ctx := context.Background()
	now := time.Now()
	before := make(map[string]*entity[S]) // entities as they were before this batch
	inBatch := make(map[string]*pending)  // idempotency keys seen in this batch
	var rows []sqlite.Row
	for _, p := range batch {
		w.decide(ctx, p, now, before, inBatch)
		if p.row != nil {
			rows = append(rows, *p.row)
		}
	}
	states := make([]sqlite.State, 0, len(before))
	for stream := range before {
		if e := w.entities.peek(stream); e != nil && e.version > 0 && e.version != versionOf(before[stream]) {
			states = append(states, sqlite.State{Stream: stream, Version: e.version, State: e.doc, Time: now})
		}
	}
	timerSets, timerChanges := w.nextTimers(batch, before)
	var published int64
	if w.pub != nil {
		if seq := w.pub.Published(); seq > w.persistedSeq {
			published = seq
		}
	}
	if len(rows) == 0 && published == 0 && len(timerChanges) == 0 {
		return batch
	}
	if err := w.store.Commit(ctx, sqlite.Batch{Rows: rows, States: states, Timers: timerChanges, PublishedSeq: published}); err != nil {
		w.log.Error("commit failed; batch not applied", "commands", len(rows), "err", err)
		w.undo(batch, before, err)
		w.retryTimers(batch, now)
		return batch
	}
	if published > 0 {
		w.persistedSeq = published
	}
	w.installTimers(timerSets)
	for stream := range before {
		if e := w.entities.peek(stream); e != nil {
			w.entities.pin(stream, w.mustStay(stream, e))
		}
	}
	j := 0
	for _, p := range batch {
		if p.row == nil {
			continue
		}
		p.row.Seq = rows[j].Seq
		for i := range p.msgs {
			p.msgs[i].Seq = p.row.Seq
		}
		j++
	}
	for _, p := range batch {
		if p.row != nil && p.req.IdempotencyKey != "" {
			w.keys.put(p.stream+"\x00"+p.req.IdempotencyKey, keyed{command: p.row.Command, data: string(p.row.Data), result: p.reply})
		}
	}
	return batch
}

func versionOf[S any](e *entity[S]) int64 {
	if e == nil {
		return 0
	}
	return e.version
}

// undo restores the entities a failed batch touched and answers its commands with err.
func (w *Writer[S]) undo(batch []*pending, before map[string]*entity[S], err error) {
	for stream, e := range before {
		if e == nil || e.version == 0 {
			w.entities.remove(stream)
		} else {
			w.entities.put(stream, e)
		}
	}
	fe := failure.From(err)
	if fe.Kind == failure.Internal || fe.Kind == failure.Conflict {
		fe = failure.New(failure.Unavailable, "store_unavailable", "the event store could not commit; nothing was applied, retry later")
	}
	reply, _ := json.Marshal(command.Reply{Error: fe})
	for _, p := range batch { // even replays and loads: they may have seen this batch's state
		p.row, p.update, p.msgs, p.reply = nil, nil, nil, reply
	}
}

// decide sets p.reply and, for a command to append, p.row and p.update.
func (w *Writer[S]) decide(ctx context.Context, p *pending, now time.Time, before map[string]*entity[S], inBatch map[string]*pending) {
	if err := w.checkID(p.req.Entity); err != nil {
		p.reply = errorReply(err)
		return
	}
	p.stream = event.Stream(w.name, p.req.Entity)
	if p.req.Kind == command.KindLoad {
		w.decideLoad(ctx, p)
		return
	}
	if p.req.Kind != command.KindCommand {
		p.reply = errorReply(failure.Newf(failure.Invalid, "invalid_request", "unknown request kind %q", p.req.Kind))
		return
	}
	if p.req.Deadline > 0 && now.UnixNano() > p.req.Deadline {
		p.reply = errorReply(failure.New(failure.Timeout, "expired", "the command expired before the writer reached it; it was not applied"))
		return
	}
	cmd, err := w.parse(p)
	if err != nil {
		p.reply = errorReply(err)
		return
	}
	cmd.Time = now.UTC()
	// A timer's firing has a key of its own but needs no look-up: the firing and the timer
	// marked fired commit together, so a fired timer never comes back here.
	if p.req.IdempotencyKey != "" && p.timer == nil && w.replayed(ctx, p, cmd, inBatch) {
		return
	}
	e, err := w.load(ctx, p.stream, p.req.Entity)
	if err != nil {
		p.reply = errorReply(err)
		return
	}
	if _, seen := before[p.stream]; !seen {
		if e.version == 0 {
			before[p.stream] = nil
		} else {
			saved := *e
			before[p.stream] = &saved
		}
	}
	if p.timer != nil && !w.stillListed(e, p.timer) {
		return // superseded or cancelled by a command earlier in this batch: never fired
	}
	row := &sqlite.Row{Stream: p.stream, CommandID: p.req.CommandID, Command: cmd.Type, Data: cmd.Data,
		IdempotencyKey: p.req.IdempotencyKey, CorrelationID: p.req.CorrelationID, Time: now}
	if row.CommandID == "" {
		row.CommandID = event.NewID()
	}
	p.row = row
	if !w.admitted(p, e) {
		return
	}
	if err := staleFence(e.fencing, p.req.Fencing); err != nil {
		w.reject(p, err)
		return
	}
	if ev := p.req.ExpectedVersion; ev != nil && *ev != e.version {
		w.reject(p, failure.Newf(failure.PreconditionFailed, "version_mismatch", "expected version %d, the entity is at version %d", *ev, e.version))
		return
	}
	events, err := w.domain.Decide(e.state, e.version, cmd)
	if err != nil {
		if k := failure.KindOf(err); k == failure.Invalid || k == failure.Internal {
			p.row, p.reply = nil, errorReply(err)
			return
		}
		w.reject(p, err)
		return
	}
	w.accept(p, e, events, now)
}

// parse returns the command of p: a client's, validated by the domain, or a timer's.
func (w *Writer[S]) parse(p *pending) (aggregate.Command, error) {
	if p.timer != nil {
		return aggregate.Command{Type: p.timer.Command, Data: p.timer.Data}, nil
	}
	if err := command.CheckFencing(p.req.Fencing); err != nil {
		return aggregate.Command{}, err
	}
	if strings.HasPrefix(p.req.IdempotencyKey, timerKeyPrefix) {
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_idempotency_key", "Idempotency-Key must not start with "+timerKeyPrefix+": the writer's timers use those")
	}
	return w.domain.ParseCommand(p.req.Command, p.req.Data)
}

func (w *Writer[S]) reject(p *pending, err error) {
	p.reply = errorReply(err)
	p.row.Outcome, p.row.Events, p.row.Result = sqlite.Rejected, json.RawMessage("[]"), p.reply
}

// accept applies events to the entity and builds the row, reply and read model update.
func (w *Writer[S]) accept(p *pending, e *entity[S], events []aggregate.Event, now time.Time) {
	if len(events) == 0 { // nothing changes, nothing to record (a version holds one event at least)
		p.row = nil
		p.reply, _ = json.Marshal(command.Reply{Version: e.version, State: e.doc})
		return
	}
	next := *e
	next.fencing = raiseFence(e.fencing, p.req.Fencing)
	entries := make([]redis.Entry, 0, len(events))
	for _, ev := range events {
		s, err := w.domain.Evolve(next.state, ev)
		if err != nil {
			p.row, p.reply = nil, errorReply(err)
			return
		}
		next.state = s
		next.version++
		env := event.Envelope{ID: event.NewID(), Stream: p.stream, Version: next.version, Type: ev.Type, Data: ev.Data,
			CommandID: p.row.CommandID, CorrelationID: p.req.CorrelationID, CausationID: p.row.CommandID, Time: now, Fencing: p.req.Fencing}
		w.up.Stamp(&env)
		b, _ := json.Marshal(env)
		entries = append(entries, redis.Entry{Version: next.version, JSON: b})
		p.msgs = append(p.msgs, outbox.Message{ID: env.ID, Stream: p.stream, JSON: b})
	}
	doc, err := fencedDocument(p.req.Entity, next.version, next.fencing, next.state)
	if err != nil {
		p.row, p.reply = nil, errorReply(err)
		return
	}
	next.doc = doc
	*e = next
	w.entities.put(p.stream, e)
	p.reply, _ = json.Marshal(command.Reply{Version: next.version, State: doc})
	p.row.Version, p.row.Outcome, p.row.Result = next.version, sqlite.Accepted, p.reply
	p.row.Events = joinEntries(entries)
	p.update = &redis.Update{Key: p.stream, Version: next.version, Doc: doc, Events: entries}
}

func (w *Writer[S]) decideLoad(ctx context.Context, p *pending) {
	e, err := w.load(ctx, p.stream, p.req.Entity)
	if err != nil {
		p.reply = errorReply(err)
		return
	}
	if e.version == 0 {
		w.decideUnwritten(p, e)
		return
	}
	p.reply, _ = json.Marshal(command.Reply{Version: e.version, State: e.doc})
	p.update = &redis.Update{Key: p.stream, Version: e.version, Doc: e.doc}
}

// decideUnwritten answers the load of an entity never written: not_found, or the zero
// state at version 0 for a domain whose entities exist before their first event
// (aggregate.Implicit). Nothing is restored in the read model for it.
func (w *Writer[S]) decideUnwritten(p *pending, e *entity[S]) {
	if !aggregate.IsImplicit(w.domain) {
		p.reply = errorReply(failure.Newf(failure.NotFound, "not_found", "%s %s has never been written", w.name, p.req.Entity))
		return
	}
	doc, err := document(p.req.Entity, 0, e.state)
	if err != nil {
		p.reply = errorReply(err)
		return
	}
	p.reply, _ = json.Marshal(command.Reply{State: doc})
}

func joinEntries(entries []redis.Entry) json.RawMessage {
	parts := make([][]byte, len(entries))
	for i, e := range entries {
		parts[i] = e.JSON
	}
	return command.Frame(parts)
}

func errorReply(err error) []byte {
	b, _ := json.Marshal(command.Reply{Error: failure.From(err)})
	return b
}

// validEntity checks an entity id: 1 to 64 characters of [0-9A-Za-z_-].
func validEntity(id string) error {
	if len(id) == 0 || len(id) > 64 {
		return failure.New(failure.Invalid, "invalid_id", "entity id must be 1 to 64 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return failure.New(failure.Invalid, "invalid_id", "entity id may hold only letters, digits, '_' and '-'")
		}
	}
	return nil
}
