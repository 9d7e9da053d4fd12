package sse

import (
	"net/http"
	"strconv"
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// Position is where a subscriber starts: after After, or at the end (only new events).
type Position struct {
	After int64
	End   bool // ?after=end: after whatever is newest when the stream starts
}

// StartPosition reads where a request for a stream starts: its Last-Event-ID header
// (a client resuming), else ?after=<n> or ?after=end, else 0 (from the first event).
// A value that is not a non-negative integer is an Invalid failure (400 before the
// stream starts).
func StartPosition(r *http.Request) (Position, error) {
	if h := strings.TrimSpace(r.Header.Get("Last-Event-ID")); h != "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n < 0 {
			return Position{}, failure.New(failure.Invalid, "invalid_last_event_id", "Last-Event-ID must be a non-negative integer (the id of the last event received)")
		}
		return Position{After: n}, nil
	}
	s := r.URL.Query().Get("after")
	switch s {
	case "":
		return Position{}, nil
	case "end":
		return Position{End: true}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return Position{}, failure.New(failure.Invalid, "invalid_after", `after must be a non-negative integer or "end"`)
	}
	return Position{After: n}, nil
}
