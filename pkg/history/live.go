package history

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/sse"
)

// livePage is the most entries a stream reads at once: all a subscriber holds.
const livePage = 256

// streamPrefix is a well-formed ?stream=: a domain, optionally followed by a dot and the
// start of an entity id as streams encode it ("wallet.", "wallet.<id>", "queue.",
// "lock.x%2Eevents": event.EncodeID).
var streamPrefix = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[A-Za-z0-9_.:%-]*)?$`)

// mountEvents adds GET /history/events (C8): every event after a position (Last-Event-ID,
// else ?after=<position> or ?after=end, else 0) whose stream starts with ?stream=, as
// Server-Sent Events with id: <position>, then each new one as it is stored.
//
// A stream reads the log itself, a page at a time, and waits for the next commit when it
// has read everything: nothing is buffered per subscriber beyond one page, events come
// in position order, each once, with no gap between the stored and the live ones, and a
// slow subscriber only falls behind (its writes time out and it resumes from its last id).
func mountEvents(r chi.Router, s *Store) {
	r.Get("/history/events", func(w http.ResponseWriter, req *http.Request) {
		pos, err := sse.StartPosition(req)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		prefix := req.URL.Query().Get("stream")
		if prefix != "" && (len(prefix) > 256 || !streamPrefix.MatchString(prefix)) {
			httpapi.WriteError(w, failure.New(failure.Invalid, "invalid_stream",
				`stream must be a domain, optionally with a dot and the start of an id, such as "wallet." or "wallet.<id>"`))
			return
		}
		if pos.End {
			if pos.After, err = s.Newest(req.Context()); err != nil {
				httpapi.WriteError(w, failure.New(failure.Unavailable, "history_unavailable", err.Error()))
				return
			}
		}
		st, err := sse.Start(w, req)
		if err != nil {
			return
		}
		defer st.Close()
		f := &follower{s: s, st: st, scanned: pos.After, prefix: prefix}
		// The stored events on the handler's goroutine (its stack grows with SQLite's
		// calls and goes with it), then the new ones on the detached stream's.
		appended, _, err := f.catchUp(st.Context())
		if err != nil {
			return // the client resumes
		}
		st.Detach(func(ctx context.Context) error { return f.follow(ctx, appended) })
	})
}

// follower writes the entries after a position matching a prefix to one stream.
type follower struct {
	s       *Store
	st      *sse.Stream
	scanned int64 // every position up to here was read (matching or not)
	prefix  string
}

// follow waits for commits after the catch-up that gave appended, and writes what they
// add, until ctx ends or a write fails. A comment line is written when nothing was for
// sse.Keepalive.
func (f *follower) follow(ctx context.Context, appended <-chan struct{}) error {
	keepalive := time.NewTimer(sse.Keepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-appended:
			var sent bool
			var err error
			if appended, sent, err = f.catchUp(ctx); err != nil {
				return err
			}
			if sent {
				keepalive.Reset(sse.Keepalive)
			}
		case <-keepalive.C:
			if err := f.st.Keepalive(); err != nil {
				return err
			}
			keepalive.Reset(sse.Keepalive)
		}
	}
}

// catchUp writes the entries after f.scanned up to the newest, and returns the channel
// that closes on the next commit (taken before reading: a commit after the read closes
// it) and whether it wrote anything.
func (f *follower) catchUp(ctx context.Context) (appended <-chan struct{}, sent bool, err error) {
	appended = f.s.Appended()
	newest, err := f.s.Newest(ctx)
	if err != nil {
		return nil, false, err
	}
	for f.scanned < newest {
		var last int64
		n, err := f.s.RangeJSON(ctx, f.scanned, newest, f.prefix, livePage, func(position int64, typ string, envelope []byte) error {
			f.st.Event(position, typ, envelope)
			last = position
			return nil
		})
		if err != nil {
			return nil, sent, err
		}
		if err := f.st.Flush(); err != nil {
			return nil, sent, err
		}
		sent = sent || n > 0
		if n < livePage {
			f.scanned = newest
		} else {
			f.scanned = last
		}
	}
	return appended, sent, nil
}
