package history

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// page is the answer of GET /history.
type page struct {
	Events []Entry `json:"events"`
	Newest int64   `json:"newest"` // the newest position in the history
	Next   int64   `json:"next"`   // pass as ?after= for the next page
}

// Mount adds GET /history?after=<position>&limit=<n> (default after 0, limit 100, at
// most 1000): events with position > after, oldest first; and GET /history/events,
// the same followed live (mountEvents); GET /history/bulk, many entries a request for
// readers that rebuild a model (mountBulk).
func Mount(r chi.Router, s *Store) {
	mountEvents(r, s)
	mountBulk(r, s)
	r.Get("/history", func(w http.ResponseWriter, req *http.Request) {
		after, err := httpapi.QueryInt(req, "after", 0, 0, 1<<62)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		limit, err := httpapi.QueryInt(req, "limit", 100, 1, 1000)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		events, newest, err := s.After(req.Context(), after, int(limit))
		if err != nil {
			httpapi.WriteError(w, failure.New(failure.Unavailable, "history_unavailable", err.Error()))
			return
		}
		next := after
		if len(events) > 0 {
			next = events[len(events)-1].Position
		}
		httpapi.WriteJSON(w, http.StatusOK, page{Events: events, Newest: newest, Next: next})
	})
}
