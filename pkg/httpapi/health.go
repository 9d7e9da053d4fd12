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

// NewRouter returns a chi router that answers unknown routes and methods in JSON and
// turns panics into 500s instead of dropped connections.
func NewRouter() chi.Router {
	r := chi.NewRouter()
	r.Use(recoverer)
	r.NotFound(NotFound)
	r.MethodNotAllowed(MethodNotAllowed)
	return r
}

func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				WriteJSON(w, http.StatusInternalServerError, errorBody{Error: errorDetail{Type: "internal", Message: "internal error"}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
