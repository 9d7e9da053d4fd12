package httpapi

import (
	"net/http"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
)

// fencing parses the Fencing-Token header of a command: at most one, "<lock name>=<token>"
// (nil when absent). The writer refuses the command with 409 stale_token if the entity
// already accepted a higher token of that lock.
func fencing(r *http.Request) (map[string]int64, error) {
	hs := r.Header.Values("Fencing-Token")
	switch len(hs) {
	case 0:
		return nil, nil
	case 1:
		return command.ParseFence(hs[0])
	default:
		return nil, failure.New(failure.Invalid, "invalid_fencing_token", "send at most one Fencing-Token header")
	}
}
