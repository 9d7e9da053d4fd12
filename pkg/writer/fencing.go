package writer

import (
	"bytes"
	"encoding/json"
	"maps"

	"uneventful.dev/uneventful/pkg/failure"
)

// Fencing (Fencing-Token: <lock>=<token>, C10) is checked here, for every domain, not by
// the domain's code: an entity keeps the highest token it accepted per lock, in its state
// document ("fencing", see fencedDocument) and in the envelopes of the events of each
// fenced command (event.Envelope.Fencing), so a restart, verify and a read model rebuild
// all keep it. A command with a lower token than the entity's is refused, 409 stale_token;
// an equal one is accepted.

// staleFence returns a stale_token failure if fence holds a token lower than the entity's
// for the same lock.
func staleFence(have, fence map[string]int64) error {
	for name, tok := range fence {
		if h := have[name]; tok < h {
			return failure.Newf(failure.Conflict, "stale_token", "fencing token %d of lock %s is stale: this entity accepted token %d", tok, name, h)
		}
	}
	return nil
}

// raiseFence returns have with fence's tokens where higher: a new map if that changes
// anything, else have itself.
func raiseFence(have, fence map[string]int64) map[string]int64 {
	var out map[string]int64
	for name, tok := range fence {
		if tok > have[name] {
			if out == nil {
				out = make(map[string]int64, len(have)+len(fence))
				maps.Copy(out, have)
			}
			out[name] = tok
		}
	}
	if out == nil {
		return have
	}
	return out
}

var fencingKey = []byte(`"fencing":`)

// docFencing reads the fencing tokens of a state document (nil if none).
func docFencing(doc []byte) (map[string]int64, error) {
	if !bytes.Contains(doc, fencingKey) {
		return nil, nil
	}
	var d struct {
		Fencing map[string]int64 `json:"fencing"`
	}
	err := json.Unmarshal(doc, &d)
	return d.Fencing, err
}
