package writer

import (
	"context"
	"time"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/outbox"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
)

// afterCommitLoop runs after each commit, in commit order: it updates the read model, then
// replies, then wakes the outbox. A read model update Redis refuses is kept and retried,
// so the reply (the write is durable) never waits for Redis to come back.
func (w *Writer[S]) afterCommitLoop(ctx context.Context) {
	retry := time.NewTicker(500 * time.Millisecond)
	defer retry.Stop()
	w.startRebuild("start-up")
	for {
		if w.rb.active { // a chunk of the read model check between batches
			w.rebuildStep(ctx)
			select {
			case batch, ok := <-w.committed:
				if !ok {
					return
				}
				w.afterCommit(ctx, batch)
			case <-retry.C:
				w.project(ctx, nil)
				w.checkMarker(ctx)
			default:
			}
			continue
		}
		select {
		case batch, ok := <-w.committed:
			if !ok {
				return
			}
			w.afterCommit(ctx, batch)
		case <-retry.C:
			w.project(ctx, nil)
			w.checkMarker(ctx)
		}
	}
}

// afterCommit updates the read model of a committed batch, replies, and wakes the outbox.
func (w *Writer[S]) afterCommit(ctx context.Context, batch []*pending) {
	w.project(ctx, batch)
	for _, p := range batch {
		if p.in != nil {
			p.in.answer(p.idx, p.reply)
		}
	}
	w.handOver(batch)
}

// project writes the batch's read model updates, with any left over from earlier
// failures, and restores the read model of entities that were loaded.
func (w *Writer[S]) project(ctx context.Context, batch []*pending) {
	w.mu.Lock()
	updates := make([]redis.Update, 0, len(batch)+len(w.unprojected))
	for _, u := range w.unprojected {
		updates = append(updates, u)
	}
	w.mu.Unlock()
	for _, p := range batch {
		if p.update == nil {
			continue
		}
		if p.req.Kind == command.KindLoad {
			if err := w.restore(ctx, *p.update); err != nil {
				w.log.Warn("restore read model", "stream", p.stream, "err", err)
			}
			continue
		}
		updates = append(updates, *p.update)
	}
	updates = mergeUpdates(updates)
	if len(updates) == 0 {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := w.proj.Apply(pctx, updates)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		clear(w.unprojected)
		return
	}
	if len(w.unprojected) == 0 {
		w.log.Warn("read model update failed; will retry", "entities", len(updates), "err", err)
	}
	for _, u := range updates {
		prev, ok := w.unprojected[u.Key]
		if ok && prev.Version > u.Version {
			prev.Events = append(prev.Events, u.Events...)
			w.unprojected[u.Key] = prev
			continue
		}
		if ok {
			u.Events = append(prev.Events, u.Events...)
		}
		w.unprojected[u.Key] = u
	}
}

// restore rebuilds the read model of one entity from the event log, events first and
// the state document last, so a reader who finds the document finds every event.
func (w *Writer[S]) restore(ctx context.Context, u redis.Update) error {
	if _, ok, err := w.proj.Get(ctx, u.Key); err != nil || ok {
		return err // already there (another load restored it), or Redis is down
	}
	return w.restoreEntity(ctx, u)
}

// restoreEntity writes every event of the entity up to u.Version from the log, then
// u's document (which never replaces a newer one).
func (w *Writer[S]) restoreEntity(ctx context.Context, u redis.Update) error {
	var after int64
	for {
		rows, err := w.store.StreamRows(ctx, u.Key, after, 1000)
		if err != nil {
			return err
		}
		var entries []redis.Entry
		for _, r := range rows {
			if entries, err = w.storedEntries(entries, r.Events); err != nil {
				return err
			}
			after = r.Version
		}
		if len(entries) > 0 {
			if err := w.proj.Apply(ctx, []redis.Update{{Key: u.Key, Events: entries}}); err != nil {
				return err
			}
		}
		if len(rows) < 1000 || after >= u.Version {
			break
		}
	}
	u.Complete = true
	return w.proj.Apply(ctx, []redis.Update{u})
}

// handOver gives the outbox the events of a committed batch.
func (w *Writer[S]) handOver(batch []*pending) {
	if w.pub == nil {
		return
	}
	var first, last int64
	var msgs []outbox.Message
	for _, p := range batch {
		if p.row == nil {
			continue
		}
		if first == 0 {
			first = p.row.Seq
		}
		last = p.row.Seq
		msgs = append(msgs, p.msgs...)
	}
	if last > 0 {
		w.pub.Committed(first, last, msgs)
	}
}

// mergeUpdates folds the updates of one entity into one (the newest document with all
// the events), so a hot entity costs one script call per batch, not one per command.
func mergeUpdates(updates []redis.Update) []redis.Update {
	if len(updates) < 2 {
		return updates
	}
	at := make(map[string]int, len(updates))
	out := updates[:0:0]
	for _, u := range updates {
		i, seen := at[u.Key]
		if !seen {
			at[u.Key] = len(out)
			out = append(out, u)
			continue
		}
		m := &out[i]
		m.Events = append(m.Events[:len(m.Events):len(m.Events)], u.Events...)
		if u.Version > m.Version && len(u.Doc) > 0 {
			m.Version, m.Doc = u.Version, u.Doc
		}
	}
	return out
}
