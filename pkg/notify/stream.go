package notify

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/sse"
)

// listenBuffer is how many notifications a stream may be behind before it is ended as
// too slow (C8: bounded memory, nobody else slowed).
const listenBuffer = 256

// stream serves GET /session/{id}/notifications. It ends when the session is destroyed:
// each of the session's events (on its NATS subject, published after the read model has
// the new state) has the read model checked.
func (n *Notifier) stream(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := CheckID(id); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if err := n.checkNotDestroyed(r.Context(), id); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	changed, stop, err := n.watch(id)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	defer stop() // before Listen, whose flush makes the server know both
	got := make(chan Notification, listenBuffer)
	gone := make(chan struct{})
	var once sync.Once
	l, err := n.Listen(r.Context(), id, func(nt Notification) {
		select {
		case got <- nt:
		default:
			once.Do(func() { close(gone) })
		}
	})
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	defer l.Close()
	st, err := sse.Start(w, r) // after Listen: a client that has the headers is listening
	if err != nil {
		return
	}
	defer st.Close()
	keepalive := time.NewTimer(sse.Keepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-st.Context().Done():
			return
		case <-gone:
			return // too slow: the client reconnects (and misses what was dropped)
		case nt := <-got:
			data, err := json.Marshal(nt)
			if err != nil {
				return
			}
			st.EventWithoutID(nt.Type, data)
			if err := st.Flush(); err != nil {
				return
			}
		case <-changed:
			if errors.Is(n.checkNotDestroyed(st.Context(), id), ErrNotFound) {
				return // destroyed: the stream ends, as C8's events of an entity that ended
			}
			continue
		case <-keepalive.C:
			if err := st.Keepalive(); err != nil {
				return
			}
		}
		keepalive.Reset(sse.Keepalive)
	}
}

// watch signals on changed (at most one signal waiting) each time an event of session id
// is published. stop ends it.
func (n *Notifier) watch(id string) (changed <-chan struct{}, stop func(), err error) {
	c := make(chan struct{}, 1)
	sub, err := n.nc.Subscribe(event.Subject(event.Stream(Domain, id)), func(*nats.Msg) {
		select {
		case c <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return nil, nil, ErrUnavailable.With("nats: " + err.Error())
	}
	return c, func() { sub.Unsubscribe() }, nil //nolint:errcheck // closed already
}
