package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/livefeed"
	"uneventful.dev/uneventful/pkg/sse"
)

// Feed is where the live events of a domain come from (livefeed.Feed provides it).
type Feed interface {
	Subscribe(stream string) *livefeed.Subscription
}

// StoredEvents reads the stored events of an entity after a version, oldest first
// (readmodel/redis.Projection provides it).
type StoredEvents interface {
	EventsAfter(ctx context.Context, key string, after int64, limit int) ([]string, error)
}

// storedPage is the most stored events read at once.
const storedPage = 256

// errGap ends a stream whose next version is in neither the stored nor the live
// events (a read model still being restored): the client resumes after the last one.
var errGap = errors.New("an event is missing from the read model")

// live serves GET /{domain}/{id}/events (C8): the entity's events after a version
// (Last-Event-ID, else ?after=<version> or ?after=end, else 0) as Server-Sent Events
// with id: <version>, then each new one. The subscriber registers with the feed first,
// then reads the stored events (Redis) after its position, then takes the live ones,
// skipping versions already sent; a live version past the next one is a gap, filled
// from the stored events. Versions are contiguous, so the stream has no gap and no
// repeat; a subscriber too slow for its buffer is dropped and resumes with Last-Event-ID.
func (a *Entities) live(w http.ResponseWriter, r *http.Request) {
	id, err := a.entityID(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	pos, err := sse.StartPosition(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	if a.Feed == nil || a.Stored == nil {
		WriteError(w, failure.New(failure.Unavailable, "no_live_events", "this server does not serve live events"))
		return
	}
	key := event.Stream(a.Domain, id)
	sub := a.Feed.Subscribe(key)
	handed := false // to the detached stream, which closes it
	defer func() {
		if !handed {
			sub.Close()
		}
	}()
	if pos.End {
		doc, err := a.document(r.Context(), id)
		switch {
		case failure.KindOf(err) == failure.NotFound: // never written: from its first event
		case err != nil:
			WriteError(w, err)
			return
		default:
			pos.After = event.DocVersion(doc)
		}
	}
	st, err := sse.Start(w, r)
	if err != nil {
		return
	}
	defer st.Close()
	f := &follower{a: a, st: st, key: key, id: id, last: pos.After}
	// The stored events on the handler's goroutine (its stack grows with Redis's calls
	// and goes with it), then the live ones on the detached stream's.
	if err := f.catchUp(st.Context()); err != nil {
		return // the client resumes
	}
	if done, err := f.ended(st.Context()); done || err != nil {
		return
	}
	handed = true
	st.Detach(func(ctx context.Context) error {
		defer sub.Close()
		return f.follow(ctx, sub)
	})
}

// follower writes one entity's events to one stream.
type follower struct {
	a    *Entities
	st   *sse.Stream
	key  string
	id   string
	last int64 // the version last sent
}

// follow sends the live events once the stored ones were sent, until ctx ends, the
// subscriber is dropped, a write fails or the entity ended.
func (f *follower) follow(ctx context.Context, sub *livefeed.Subscription) error {
	keepalive := time.NewTimer(sse.Keepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.Ready():
			last := f.last
			if err := f.live(ctx, sub.Take()); err != nil {
				return err
			}
			if f.last == last {
				continue // nothing new (sent already, or taken with the news before)
			}
			if done, err := f.ended(ctx); done || err != nil {
				return err
			}
		case <-keepalive.C:
			if err := f.st.Keepalive(); err != nil {
				return err
			}
		}
		keepalive.Reset(sse.Keepalive)
	}
}

// live sends what the feed delivered: after a reconnection the stored events first,
// then the live events after the last version sent; a live version past the next one is
// a gap, filled from the stored events.
func (f *follower) live(ctx context.Context, news livefeed.News) error {
	if news.Gone {
		return errors.New("dropped: too slow")
	}
	if news.Resync {
		if err := f.catchUp(ctx); err != nil {
			return err
		}
	}
	for _, e := range news.Events {
		switch {
		case e.Version <= f.last: // sent already (stored, or delivered twice)
		case e.Version > f.last+1:
			if err := f.catchUp(ctx); err != nil {
				return err
			}
			if e.Version > f.last+1 {
				return errGap
			}
		default:
			f.st.Event(e.Version, e.Type, e.JSON)
			f.last = e.Version
		}
	}
	return f.st.Flush()
}

// catchUp sends the stored events after f.last, in pages, until none is left, then
// checks the state document's version: stored events missing below it (Redis lost its
// data) make the writer restore the entity's read model (a load, answered once Redis
// has it again) and are read again. A gap still there ends the stream (the client
// resumes).
func (f *follower) catchUp(ctx context.Context) error {
	for restored := false; ; {
		page, err := f.a.Stored.EventsAfter(ctx, f.key, f.last, storedPage)
		if err != nil {
			return err
		}
		gap := false
		for _, s := range page {
			e, err := livefeed.Decode([]byte(s))
			if err != nil {
				return err
			}
			if gap = e.Version != f.last+1; gap {
				break
			}
			f.st.Event(e.Version, e.Type, e.JSON)
			f.last = e.Version
		}
		if err := f.st.Flush(); err != nil {
			return err
		}
		if !gap && len(page) == storedPage {
			continue
		}
		if !gap {
			if gap, err = f.behind(ctx); err != nil || !gap {
				return err
			}
		}
		if restored {
			return errGap
		}
		if _, err := f.a.Writer.Send(ctx, command.Request{Kind: command.KindLoad, Entity: f.id}); err != nil {
			return err
		}
		restored = true
	}
}

// behind reports whether the entity's state is past the last version sent once every
// stored event was: its stored events are incomplete. A document missing from Redis is
// asked of the writer, which restores the read model; an entity never written is not
// behind.
func (f *follower) behind(ctx context.Context) (bool, error) {
	doc, err := f.a.document(ctx, f.id)
	if failure.KindOf(err) == failure.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return event.DocVersion(doc) > f.last, nil
}
