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
		follow(st.Context(), s, st, pos.After, prefix) //nolint:errcheck // the stream ended: the client resumes
	})
}

// follow writes the entries after after matching prefix to st, then waits for more,
// until ctx ends or a write fails.
func follow(ctx context.Context, s *Store, st *sse.Stream, after int64, prefix string) error {
	keepalive := time.NewTimer(sse.Keepalive)
	defer keepalive.Stop()
	scanned := after // every position up to here was read (matching or not)
	for {
		appended := s.Appended() // before reading: a commit after the read closes it
		newest, err := s.Newest(ctx)
		if err != nil {
			return err
		}
		for scanned < newest {
			var last int64
			n, err := s.RangeJSON(ctx, scanned, newest, prefix, livePage, func(position int64, typ string, envelope []byte) error {
				st.Event(position, typ, envelope)
				last = position
				return nil
			})
			if err != nil {
				return err
			}
			if err := st.Flush(); err != nil {
				return err
			}
			if n < livePage {
				scanned = newest
			} else {
				scanned = last
			}
			keepalive.Reset(sse.Keepalive)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-appended:
		case <-keepalive.C:
			if err := st.Keepalive(); err != nil {
				return err
			}
			keepalive.Reset(sse.Keepalive)
		}
	}
}
