package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
)

// CorrelationHeader carries a request's correlation id, in the request (optional) and in
// every response.
const CorrelationHeader = "X-Correlation-Id"

type correlationKey struct{}

// CorrelationID returns the correlation id Edge gave r, "" if r did not pass through Edge.
func CorrelationID(r *http.Request) string {
	id, _ := r.Context().Value(correlationKey{}).(string)
	return id
}

// Edge is the first middleware of every server (NewRouter uses it). It gives each request
// a correlation id (the client's X-Correlation-Id if it is 1 to 64 printable characters
// without spaces, else a new KSUID), returns it in the response's X-Correlation-Id, and
// logs to log, once and with that id, each internal error WriteError answered and each
// panic, which it answers with a generic 500 "internal" error. Clients never see an
// internal error's text. A nil log is slog.Default() at the time of logging.
func Edge(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(CorrelationHeader)
			if !printable(id, 64) {
				id = event.NewID()
			}
			w.Header().Set(CorrelationHeader, id)
			ew := &edgeWriter{ResponseWriter: w, id: id}
			r = r.WithContext(context.WithValue(r.Context(), correlationKey{}, id))
			defer func() {
				v := recover()
				if v == http.ErrAbortHandler {
					panic(v) // net/http's way to abort a response: not a bug
				}
				l := log
				if l == nil {
					l = slog.Default()
				}
				if v != nil {
					l.Error("panic in an HTTP handler", "correlation_id", id, "method", r.Method, "path", r.URL.Path,
						"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					if !ew.wrote {
						WriteError(ew, failure.Newf(failure.Internal, "panic", "%v", v))
						ew.internal = nil // logged above
					}
				}
				if ew.internal != nil {
					l.Error("internal error", "correlation_id", id, "method", r.Method, "path", r.URL.Path, "err", ew.internal.Error())
				}
			}()
			next.ServeHTTP(ew, r)
		})
	}
}

// edgeWriter is the response writer under Edge: it knows the request's correlation id and
// keeps the internal error answered, for Edge to log.
type edgeWriter struct {
	http.ResponseWriter
	id       string
	wrote    bool
	internal error
}

func (w *edgeWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *edgeWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (Server-Sent Events) flush through Edge.
func (w *edgeWriter) Flush() {
	w.wrote = true
	http.NewResponseController(w.ResponseWriter).Flush() //nolint:errcheck // as http.Flusher: no error to return
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *edgeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// edgeOf returns the edgeWriter under w, nil if w did not come through Edge.
func edgeOf(w http.ResponseWriter) *edgeWriter {
	for {
		if ew, ok := w.(*edgeWriter); ok {
			return ew
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// concealed returns what a client is told of internal error err: a generic message with
// the correlation id. err goes to the log, once: through Edge, else at once.
func concealed(w http.ResponseWriter, err error) *failure.Error {
	ew := edgeOf(w)
	if ew == nil {
		slog.Default().Error("internal error", "err", err.Error())
		return failure.New(failure.Internal, "internal", "internal error")
	}
	if ew.internal == nil {
		ew.internal = err
	}
	return failure.New(failure.Internal, "internal", "internal error; correlation id "+ew.id)
}

// printable reports whether s is 1 to max printable ASCII characters without spaces.
func printable(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
