package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Check reports whether one dependency is reachable.
type Check func(ctx context.Context) error

// MountHealth adds GET /healthz (the process is alive) and GET /readyz (every check
// passes within a second) to r.
func MountHealth(r chi.Router, checks map[string]Check) {
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		status, code := map[string]string{}, http.StatusOK
		for name, check := range checks {
			if err := check(ctx); err != nil {
				status[name], code = err.Error(), http.StatusServiceUnavailable
			} else {
				status[name] = "ok"
			}
		}
		WriteJSON(w, code, status)
	})
}

// NewRouter returns a chi router that answers unknown routes and methods in JSON and,
// through Edge, gives every request a correlation id, answers panics with a generic 500
// instead of a dropped connection, and logs internal errors and panics once.
func NewRouter() chi.Router {
	r := chi.NewRouter()
	r.Use(Edge(nil))
	r.NotFound(NotFound)
	r.MethodNotAllowed(MethodNotAllowed)
	return r
}
